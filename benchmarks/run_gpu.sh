#!/usr/bin/env bash
# The benchmarks to run in one call on a lent GPU machine (the `device` tool), from the repository
# root: jaxgrad from this checkout, that machine's own jax / torch. Results go to $OUT (or ./gpu_out).
# Fields large enough that per-call dispatch (~0.1 ms) stays out of the times: 16384^2 and 512^3
# (1 GiB and 512 MiB float32) for the losses, 4096^2 and 256^3 for the curvilinear grids.
set -u
out=${OUT:-gpu_out}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_MEM_FRACTION=0.6  # the rest for torch
cd benchmarks
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import jax, torch; print(jax.__version__, jax.devices(), torch.__version__)" | tee -a "$out/gpu.txt"
timeout "${LOSSES_S:-300}" python3 bench_losses.py --rounds "${ROUNDS:-10}" --sizes 16384 512 \
    --json "$out/losses_gpu.json" > "$out/losses_gpu.txt" 2>&1
echo "bench_losses exit $?"
timeout "${GEOMETRY_S:-120}" python3 bench_geometry.py --rounds "${ROUNDS:-10}" --sizes 4096 256 \
    > "$out/geometry_gpu.txt" 2>&1
echo "bench_geometry exit $?"
sed -n '/^## Summary/,$p' "$out/losses_gpu.txt"
tail -3 "$out/geometry_gpu.txt"
