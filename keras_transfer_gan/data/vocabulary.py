"""`Vocabulary`: characters <-> ids for the text models, with an unknown token."""

import collections

import numpy as np

UNKNOWN = "\ufffd"  # id 0: any character the vocabulary does not know


class Vocabulary:
    """A character vocabulary; id 0 is the unknown token.

    Args:
        chars: iterable of str. The known characters, in id order (ids from 1).

    Example:
    >>> vocab = Vocabulary.from_text("hello")
    >>> vocab.decode(vocab.encode("hole!"))
    'hole\ufffd'
    """

    def __init__(self, chars):
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("Vocabulary: every entry must be a single character")
        if len(set(chars)) != len(chars):
            raise ValueError("Vocabulary: characters must be unique")
        if UNKNOWN in chars:
            chars.remove(UNKNOWN)
        self.chars = [UNKNOWN] + chars
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text, max_size=None, min_count=1):
        """The characters of `text` by frequency (ties by code point), at most `max_size` with the unknown token."""
        if not text:
            raise ValueError("Vocabulary.from_text: the text is empty")
        counts = collections.Counter(text)
        chars = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        if max_size is not None:
            chars = chars[: max_size - 1]
        return cls(chars)

    def __len__(self):
        return len(self.chars)

    @property
    def size(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.chars == other.chars

    def __contains__(self, char):
        return char in self._ids and char != UNKNOWN

    def encode(self, text):
        """int32 ids of `text`; unknown characters map to 0."""
        return np.fromiter((self._ids.get(c, 0) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids):
        """The string of `ids` (out-of-range ids decode as the unknown token)."""
        n = len(self.chars)
        return "".join(self.chars[i] if 0 <= i < n else UNKNOWN for i in np.asarray(ids).reshape(-1).tolist())

    def get_config(self):
        return {"chars": self.chars[1:]}

    @classmethod
    def from_config(cls, config):
        return cls(config["chars"])

    def __repr__(self):
        return f"Vocabulary(size={self.size})"
