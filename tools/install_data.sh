#!/usr/bin/env bash
# Fashion-MNIST for the `fashion_mnist` data spec, with no download at run time: Debian's package
# dataset-fashion-mnist installs the four idx files that keras.datasets.fashion_mnist downloads.
# `make demo` and `make test` run this first. As root where apt-get exists (as CI runs) it installs the
# package; otherwise it says how to get the files. It never fails the build: a spec that needs the files
# raises a one-line error naming what to install.
set -u
pkg=dataset-fashion-mnist
last=t10k-labels-idx1-ubyte.gz
dpkg -s "$pkg" >/dev/null 2>&1 && exit 0
for dir in "${KERAS_HOME:-$HOME/.keras}/datasets/fashion-mnist" ${KTG_DATA_DIR:+"$KTG_DATA_DIR/fashion-mnist" "$KTG_DATA_DIR"}; do
    [ -f "$dir/$last" ] && exit 0
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing $pkg (Fashion-MNIST's idx files) with apt-get"
    if (apt-get install -y -q "$pkg" || (apt-get update -q && apt-get install -y -q "$pkg")) >/tmp/ktg-apt.log 2>&1; then
        exit 0
    fi
    echo "apt-get could not install $pkg (log: /tmp/ktg-apt.log)" >&2
fi
cat >&2 <<MSG
Fashion-MNIST not found. Get its four idx files in one of these ways:
  sudo apt-get install $pkg          (Debian/Ubuntu: the files of keras.datasets.fashion_mnist)
  python -c "import keras; keras.datasets.fashion_mnist.load_data()"   (downloads into Keras' cache)
  export KTG_DATA_DIR=/path/to/folder   (holding train-/t10k-images/labels-idx*-ubyte.gz)
MSG
exit 0
