#!/usr/bin/env bash
# The GPU path in one prepared script (issue 14, item 6), for a session that is lent a CUDA machine.
# NOT RUN YET: no accelerator has been lent to a session so far; the CUDA code paths are untested.
#
# Run from the repository root on the GPU machine, with a Python whose torch is a CUDA build and the
# packages of setup.cfg installed (that machine reaches no package index):
#     OUT=/path/to/results bash benchmarks/gpu_check.sh
# It writes, under $OUT: the CUDA tests' log and the Monte Carlo benchmark on CUDA (float32 and
# float64) and on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

python - <<'EOF' | tee "$OUT/device.txt"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))
EOF

# 1. the tests that are skipped without CUDA, then the Monte Carlo and ensemble tests on the device
timeout 300 python -m pytest -q -p no:cacheprovider tests/montecarlo/test_ensemble.py -k cuda -rs \
    > "$OUT/cuda_tests.txt" 2>&1; echo "cuda tests: exit $?" | tee -a "$OUT/summary.txt"

# 2. the Monte Carlo benchmark on CUDA (it times float64 and float32 in one run)
timeout 240 python benchmarks/bench_montecarlo.py --device cuda --networks 2000000 --loop 2000 \
    > "$OUT/bench_montecarlo_cuda.txt" 2>&1; echo "bench cuda: exit $?" | tee -a "$OUT/summary.txt"
timeout 240 python benchmarks/bench_montecarlo.py --device cpu --threads 16 --networks 200000 \
    > "$OUT/bench_montecarlo_cpu.txt" 2>&1; echo "bench cpu: exit $?" | tee -a "$OUT/summary.txt"

# 3. the Fashion-MNIST quick grid: its trainer (symcorr.experiments.fashion_mnist) has no device option
#    yet and runs on the CPU; giving it one is the first thing to do, and to time here, on a lent GPU.
