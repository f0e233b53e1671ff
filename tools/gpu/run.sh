#!/usr/bin/env bash
# Runs on the GPU machine from the repo root with ".gpu" carried:
#   bash .gpu/run.sh webgpu   — WebGPU kernel benchmark (Dawn on Vulkan/NVIDIA), JSON to $OUT
#   bash .gpu/run.sh t5       — t5-base forward/generate/prompt step on WebGPU vs PyTorch on the same GPU
#   bash .gpu/run.sh tests    — the WebGPU op suite through the bundled bench's checks
#   bash .gpu/run.sh peft     — save a prompt with tpv and load it with real PEFT (and back)
set -euo pipefail
g=.gpu
[ -x "$g/node" ] || { xz -dc "$g/node.xz" > "$g/node" && chmod +x "$g/node"; }
[ -f "$g/node_modules/webgpu/dist/linux-x64/dawn.node" ] || xz -dc "$g/node_modules/webgpu/dist/linux-x64/dawn.node.xz" > "$g/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -d "$g/tfjs/node_modules" ] || { mkdir -p "$g/tfjs" && tar -xJf "$g/tfjs.tar.xz" -C "$g/tfjs"; }
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then for f in "$g"/libvulkan1*.deb; do dpkg -x "$f" /; done; ldconfig; fi
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export NODE_PATH="$PWD/$g/node_modules"
out=${OUT:-/tmp/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1 || true
case "${1:-webgpu}" in
  webgpu) "$g/node" "$g/bench.mjs" webgpu --rounds 3 --tfjs-from "$PWD/$g/tfjs" --json "$out/webgpu-gpu.json" 2>&1 | tee "$out/webgpu.log" ;;
  t5) TPV_TORCH_DEVICE=cuda TPV_TORCH_SCRIPT="$g/torch_t5.py" "$g/node" "$g/bench.mjs" t5 --backends webgpu --config "$g/configs/config.t5-base.json" --json "$out/t5-gpu.json" 2>&1 | tee "$out/t5.log" ;;
  peft) python3 "$g/peft_check.py" "$g" "$out" 2>&1 | tee "$out/peft.log" ;;
  *) echo "unknown: $1" >&2; exit 2 ;;
esac
