#!/usr/bin/env bash
# Reproduce the starter model shipped in py_backend/worldbridge/assets/starter_model:
# record Panda3D trajectories, train the f=4 autoencoder, Stage II for extrapolation
# (1-2 contiguous reference views, targets up to 16 frames away, point and reference
# dropout, hole-weighted loss, EMA), Stage III (DMD, 2 steps) from the EMA teacher, bundle,
# and evaluate with the extrapolation protocol on held-out trajectories.
#
# Every stage resumes: rerun the script after an interruption and each trainer continues
# from its last checkpoint (finished stages are skipped). Wall time of each stage is
# appended to $WORK/timings.txt. CPU is enough: about 2 hours 30 minutes after recording on
# a 2-core AMD EPYC VM (autoencoder 53 min, Stage II 57 min, Stage III 24 min, evaluation
# 13 min); on a GPU raise the steps.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-work/starter_v2}
WB=.venv/bin/worldbridge
PY=.venv/bin/python
STEPS_AE=${STEPS_AE:-3600}
STEPS2=${STEPS2:-2000}
STEPS3=${STEPS3:-300}
THREADS=${THREADS:-2}
BUNDLE=${BUNDLE:-py_backend/worldbridge/assets/starter_model}
mkdir -p "$WORK"
export OMP_NUM_THREADS=$THREADS

stage() {  # stage NAME COMMAND...: run and record its wall time
  local name=$1 t0
  shift
  t0=$(date +%s)
  "$@"
  echo "$name: $(( $(date +%s) - t0 )) s" | tee -a "$WORK/timings.txt"
}

record() {  # record OUT ARGS...: film trajectories unless OUT already holds them
  local out=$1
  shift
  [ -d "$out" ] || $WB record --out "$out" --frames 64 --size 128 "$@"
}

# Autoencoder data: 24 garden trajectories (orbits, dollies, walks, random paths), the last
# 4 held out. Frame-model data: 48 trajectories, each in its own garden layout (scale
# 0.75-1.25, any heading, 2-5 random props from the Panda3D models); held out: 8 trajectories
# in 8 further layouts and 8 in a level no training layout uses.
stage record record "$WORK/garden" --trajectories 24 --seed 1 --prefix garden
stage record record "$WORK/train" --trajectories 48 --seed 0 --layouts 48 --random-props \
  --manifest "$WORK/train_manifest.json"
stage record record "$WORK/heldout_layouts" --trajectories 8 --seed 1 --layouts 8 --first-layout 48 \
  --random-props --split heldout --manifest "$WORK/heldout_layouts_manifest.json"
stage record record "$WORK/heldout_level" --trajectories 8 --seed 2 --level new --split new-level \
  --prefix newlevel --manifest "$WORK/heldout_level_manifest.json"
AE_TRAIN=$(ls -d "$WORK"/garden/garden_0{00..19}_*)
AE_HELDOUT=$(ls -d "$WORK"/garden/garden_02{0..3}_*)
TRAIN=$(ls -d "$WORK"/train/*/)
HELDOUT=$(ls -d "$WORK"/heldout_layouts/*/)
LEVEL=$(ls -d "$WORK"/heldout_level/*/)

# f=4, 8 latent channels: 2x2 space-to-depth, levels of 64 and 128 channels; L1 + edge +
# SSIM losses on 64 px crops with flips, cosine learning rate
stage autoencoder $WB train-autoencoder --data $AE_TRAIN --heldout $AE_HELDOUT --out "$WORK/ae" \
  --image-size 128 --downsample 4 --latent-channels 8 --block-channels 64 128 --patch-size 2 \
  --crop 64 --hflip --batch 16 --steps "$STEPS_AE" --lr 2e-3 --min-lr 1e-4 --warmup-steps 100 \
  --lr-schedule cosine --ssim-weight 0.2 --gradient-weight 0.5 --kl-weight 1e-5 \
  --checkpoint-every 200 --eval-every 400 --seed 0 --threads "$THREADS" --no-progress

CLIPS=(--clip-len 33 --references 2 --min-references 1 --reference-layout contiguous
       --reference-gap 2 4 --max-target-distance 16 --point-dropout 0.3 --reference-dropout 0.2)
[ -d "$WORK/stage2/final" ] || stage stage2 $WB train --data $TRAIN --autoencoder "$WORK/ae" \
  --out "$WORK/stage2" --config scripts/starter_model.json --steps "$STEPS2" --batch-clips 2 \
  --targets-per-clip 4 --lr 5e-4 --lr-schedule cosine --min-lr 5e-5 "${CLIPS[@]}" \
  --hole-loss-weight 3 --ema-decay 0.999 \
  --workers 1 --checkpoint-every 200 --no-progress
[ -d "$WORK/stage3/final" ] || stage stage3 $WB distill --data $TRAIN \
  --teacher "$WORK/stage2/final/ema" --autoencoder "$WORK/ae" --out "$WORK/stage3" \
  --steps "$STEPS3" --batch-clips 1 --targets-per-clip 4 --fake-updates 2 --teacher-steps 8 \
  --lr 1e-4 "${CLIPS[@]}" --workers 1 --checkpoint-every 50 --no-progress
stage bundle $WB export-bundle --model "$WORK/stage3/final" --autoencoder "$WORK/ae" --out "$BUNDLE"

# extrapolation protocol: 1 and 2 reference views, targets 4, 8 and 16 frames away; the EMA
# teacher with 2 and 20 DDIM steps beside the student on the held-out layouts
stage eval_layouts $WB eval --bundle "$BUNDLE" --teacher "$WORK/stage2/final/ema" --data $HELDOUT \
  --out "$WORK/eval_heldout_layouts.json" --markdown "$WORK/eval_heldout_layouts.md"
stage eval_level $WB eval --bundle "$BUNDLE" --data $LEVEL \
  --out "$WORK/eval_heldout_level.json" --markdown "$WORK/eval_heldout_level.md"

# provenance (data, recipe, held-out scores) into bundle.json, and the goals with margins
$PY scripts/starter_report.py provenance "$WORK/eval_heldout_layouts.json" \
  --name "worldbridge starter model v2" \
  --trained-on "48 Panda3D garden trajectories x 64 frames at 128 px, one random layout each (--trajectories 48 --seed 0 --layouts 48 --random-props); autoencoder: 20 default-garden trajectories (--trajectories 24 --seed 1, the last 4 held out)" \
  --recipe "scripts/train_starter_model.sh (STEPS_AE=$STEPS_AE STEPS2=$STEPS2 STEPS3=$STEPS3)" \
  --data "8 held-out layouts 48-55 (--trajectories 8 --seed 1 --layouts 8 --first-layout 48 --random-props), 128 px" \
  --out "$WORK/bundle_info.json"
$WB export-bundle --model "$WORK/stage3/final" --autoencoder "$WORK/ae" --out "$BUNDLE" \
  --info "$WORK/bundle_info.json" --teacher "$WORK/stage2/final/ema" --teacher-config "$WORK/stage2/stage2.json"
$PY scripts/starter_report.py goals "$WORK/eval_heldout_layouts.json"
