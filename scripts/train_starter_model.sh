#!/usr/bin/env bash
# Reproduce the starter model shipped in py_backend/worldbridge/assets/starter_model:
# record Panda3D garden trajectories, train the compact autoencoder, Stage II, Stage III
# (DMD, 2 steps), bundle, evaluate on held-out trajectories. CPU is enough (79 minutes
# measured on a 2-core VM); on a GPU raise the steps.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-work/starter}
WB=.venv/bin/worldbridge
STEPS2=${STEPS2:-2000}
STEPS3=${STEPS3:-200}
mkdir -p "$WORK"

# 24 trajectories x 64 frames at 128 px (orbits, dollies, walks, random collision-free paths);
# the last 4 are held out for evaluation
.venv/bin/python examples/record_training_data.py --out "$WORK/data" --trajectories 24 --frames 64 \
  --size 128 --seed 1 --prefix garden
TRAIN=$(ls -d "$WORK"/data/garden_0{00..19}_*)
HELDOUT=$(ls -d "$WORK"/data/garden_02{0..3}_*)

$WB train-autoencoder --data $TRAIN --out "$WORK/ae" --image-size 128 --steps 500 --batch 8 --lr 1e-3
$WB train --data $TRAIN --autoencoder "$WORK/ae" --out "$WORK/stage2" --config scripts/starter_model.json \
  --steps "$STEPS2" --batch-clips 2 --targets-per-clip 4 --lr 5e-4 --anchor-start-step 100 \
  --anchor-ramp-steps 200 --anchor-mask-prob 0.1 --workers 1 --checkpoint-every 200
$WB distill --data $TRAIN --teacher "$WORK/stage2/final" --autoencoder "$WORK/ae" --out "$WORK/stage3" \
  --steps "$STEPS3" --batch-clips 1 --targets-per-clip 4 --fake-updates 2 --teacher-steps 8 \
  --lr 1e-4 --workers 1
$WB export-bundle --model "$WORK/stage3/final" --autoencoder "$WORK/ae" \
  --out py_backend/worldbridge/assets/starter_model
# extrapolation protocol on the held-out trajectories: 1 and 2 reference views, targets 4, 8
# and 16 frames away, the teacher with 2 and 20 DDIM steps beside the student
$WB eval --bundle py_backend/worldbridge/assets/starter_model --teacher "$WORK/stage2/final" \
  --data $HELDOUT --out "$WORK/eval.json" --markdown "$WORK/eval.md"
