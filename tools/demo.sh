#!/usr/bin/env bash
# Fresh machine -> trained and tested ST-GCN on the embedded synthetic skating set, in a few minutes on 2 cores.
#   bash tools/demo.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt && python -m pip install -q --no-deps -e .
python tools/make_synthetic_data.py --out data/synthetic --train-per-class 60 --test-per-class 20 --seed 0
python main.py -c configs/recognition/stgcn/stgcn_demo.yaml --overwrite   # a re-run replaces the last demo run
python main.py --test -c configs/recognition/stgcn/stgcn_demo.yaml -w output/STGCN_demo/STGCN_demo_epoch_00006.pdparams
