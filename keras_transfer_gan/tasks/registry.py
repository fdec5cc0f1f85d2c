"""The task registry: transfer recipes by name, in the order ``--recipe auto`` tries them."""

_TASKS = {}


def register_task(cls):
    """Class decorator: register a `Task` subclass under its `name` (one instance per task)."""
    if not cls.name:
        raise ValueError(f"register_task: {cls.__name__} has no name")
    if cls.name in _TASKS and type(_TASKS[cls.name]).__module__ != cls.__module__:
        raise ValueError(f"register_task: {cls.name!r} is already registered")
    _TASKS[cls.name] = cls()
    return cls


def list_tasks():
    """Task names in registration order (the order ``auto`` tries them)."""
    return list(_TASKS)


def get_task(name):
    """The registered `Task` called `name`; a one-line error lists the names."""
    if name not in _TASKS:
        raise ValueError(f"unknown recipe {name!r} (choose from auto, {', '.join(_TASKS)})")
    return _TASKS[name]


def pick_task(source):
    """The first task that accepts `source`; none: a one-line error with each task's reason."""
    reasons = []
    for task in _TASKS.values():
        reason = task.accepts(source)
        if reason is None:
            return task
        reasons.append(f"{task.name}: {reason}")
    raise ValueError(f"no recipe accepts a {type(source).__name__} source ({'; '.join(reasons)})")
