#!/usr/bin/env bash
# serkd's main job end to end, no flags: installs what it needs, builds, imports the Fashion-MNIST
# teacher the project ships (a small ViT trained by serkd itself; examples/README.md says how),
# compiles the SeRKD training step, distils a smaller DeiT-style student for a short run, trains the
# same student without distillation for the same steps, exports the distilled student to ONNX
# (and checks the export scores the same), and prints a table. About 5 minutes on 2 cores.
#
#   DEMO_STEPS=N   training steps per student (default 600, batch 64)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh

steps=${DEMO_STEPS:-600}
work=runs/demo
config=examples/fashion-mnist/student.json
mkdir -p "$work"

echo "== building serkd (release)"
swift build -c release 2>&1 | tail -1
bin=.build/release

echo
echo "== the machine"
"$bin/serkd-run" --version

echo
echo "== importing the teacher (examples/fashion-mnist/teacher.onnx)"
"$bin/serkd-convert" import examples/fashion-mnist/teacher.onnx "$work/teacher.serkd" --batch 64
teacher="$PWD/$work/teacher.serkd"

echo
echo "== compiling the SeRKD training step"
"$bin/serkd-compile" graph --config "$config" --set teacher.model="$teacher" -o "$work/serkd.plan"

common=(--set teacher.model="$teacher" --set steps=$steps --set log_every=100 --set checkpoint_every=100000 --quiet)
echo
echo "== training the student with SeRKD for $steps steps"
"$bin/serkd-run" train --config "$config" --plan "$work/serkd.plan" "${common[@]}" --output "$work/serkd" --force

echo
echo "== training the same student without distillation for $steps steps"
"$bin/serkd-run" train --config "$config" "${common[@]}" --set method=none --output "$work/none" --force

echo
echo "== exporting the distilled student"
"$bin/serkd-convert" export "$work/serkd/best.serkd" -o "$work/student.onnx"
"$bin/serkd-run" eval "$work/student.onnx" --config "$config" --set teacher.model="$teacher"

echo
echo "== results (Fashion-MNIST test set, 10,000 images)"
"$bin/serkd-run" compare "$work/none" "$work/serkd"
echo "student ONNX: $work/student.onnx; curves: serkd-run visualize curves $work/serkd -o curves.png"
