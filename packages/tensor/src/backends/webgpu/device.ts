/**
 * Adapter and device acquisition through Dawn's Node bindings (npm `webgpu`). The device is
 * created with the adapter's real limits (the spec defaults cap storage bindings at 128 MiB and
 * workgroups at 256 invocations) and every useful optional feature the adapter has.
 */
import { TensorError } from '../../core/errors.js';
import type { DeviceFacts } from './context.js';
import { type WebGPUBackendTuning, WebGPUBackend, type WebGPUInfo } from './webgpu-backend.js';

/** Options for {@link createWebGPUBackend}. */
export interface WebGPUOptions extends WebGPUBackendTuning {
  /** Adapter preference passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
  /**
   * Dawn toggles to enable, e.g. `['disable_robustness', 'skip_validation']`; passed to Dawn as
   * `enable-dawn-features=…`.
   */
  dawnToggles?: string[];
  /** Features the device must have; creation fails with a BACKEND error when the adapter lacks one. */
  requiredFeatures?: GPUFeatureName[];
  /**
   * Kernel-choice profile: `software` (CPU emulations such as lavapipe) or `gpu`. Detected from
   * the adapter by default; `TPV_WEBGPU_PROFILE` overrides the detection too. Forcing `gpu` on
   * lavapipe is how CI exercises the GPU variants.
   */
  profile?: 'software' | 'gpu';
}

/** The npm `webgpu` module (Dawn), loaded on first use so importing the package stays cheap. */
export type DawnModule = typeof import('webgpu');

/** Features enabled whenever the adapter offers them. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** Limits requested at the adapter's maximum (compute-relevant ones; unknown names are skipped). */
const LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
] as const;

/** How to get an adapter, for the NO_ADAPTER message. */
export const NO_ADAPTER_HELP =
  'WebGPU in Node (Dawn, npm "webgpu") needs a GPU driver: Vulkan on Linux, Metal on macOS, D3D12 on Windows. ' +
  "On a Linux machine without a GPU, install Mesa's software Vulkan driver (lavapipe) and give Dawn a runtime dir:\n" +
  "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
  '  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1\n' +
  '  export XDG_RUNTIME_DIR=/tmp';

let dawn: Promise<DawnModule> | null = null;

/** Loads Dawn's Node bindings (once); a NO_ADAPTER error when the native module cannot load. */
export async function loadDawn(): Promise<DawnModule> {
  dawn ??= import('webgpu').catch((e: unknown) => {
    dawn = null;
    throw new TensorError('NO_ADAPTER', `could not load the Dawn bindings (npm "webgpu"): ${(e as Error).message}\n${NO_ADAPTER_HELP}`);
  });
  return dawn;
}

// Dawn's instance must outlive every adapter and device made from it: its event loop runs
// `Instance::ProcessEvents`, and a garbage-collected GPU object crashes the process there.
// So instances are created once per toggle set and held for the life of the process.
const instances = new Map<string, Promise<GPU>>();

/** The `GPU` entry point for a set of Dawn toggles (one per distinct set, kept alive). */
export async function createGPU(dawnToggles: readonly string[] = []): Promise<GPU> {
  // In a browser (or any runtime that already has WebGPU) use it directly; Dawn is for Node.
  const native = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (native && !(globalThis as { process?: unknown }).process) return native;
  const key = [...dawnToggles].sort().join(',');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = loadDawn().then(({ create }) => create(key ? [`enable-dawn-features=${key}`] : []));
    gpu.catch(() => instances.delete(key));
    instances.set(key, gpu);
  }
  return gpu;
}

/** Requests an adapter or throws NO_ADAPTER with setup instructions. */
export async function requestAdapter(gpu: GPU, powerPreference?: GPUPowerPreference): Promise<GPUAdapter> {
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  if (!adapter) throw new TensorError('NO_ADAPTER', `no WebGPU adapter found.\n${NO_ADAPTER_HELP}`);
  return adapter;
}

function platformBackend(): string {
  const p = typeof process !== 'undefined' ? process.platform : '';
  return p === 'darwin' ? 'metal' : p === 'win32' ? 'd3d12' : 'vulkan';
}

function detectSoftware(info: WebGPUInfo, profile?: 'software' | 'gpu'): boolean {
  const forced = profile ?? (typeof process !== 'undefined' ? process.env?.TPV_WEBGPU_PROFILE : undefined);
  if (forced === 'software' || forced === 'gpu') return forced === 'software';
  return info.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader/i.test(`${info.architecture} ${info.device} ${info.description}`);
}

/** Creates the WebGPU backend (register it with `registerWebGPU`, or pass it to `registerBackend`). */
export async function createWebGPUBackend(options: WebGPUOptions = {}): Promise<WebGPUBackend> {
  const gpu = await createGPU(options.dawnToggles);
  const adapter = await requestAdapter(gpu, options.powerPreference);
  const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length) {
    throw new TensorError('BACKEND', `the WebGPU adapter lacks required feature(s): ${missing.join(', ')}`);
  }
  const features = [...new Set([...(options.requiredFeatures ?? []), ...OPTIONAL_FEATURES.filter((f) => adapter.features.has(f))])];
  const requiredLimits: Record<string, number> = {};
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  for (const k of LIMITS) if (typeof adapterLimits[k] === 'number') requiredLimits[k] = adapterLimits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: 'tpvjs' });
  } catch (e) {
    throw new TensorError('BACKEND', `WebGPU requestDevice failed: ${(e as Error).message}`);
  }
  const ai = adapter.info;
  const limits: Record<string, number> = {};
  const deviceLimits = device.limits as unknown as Record<string, number>;
  for (const k of LIMITS) if (typeof deviceLimits[k] === 'number') limits[k] = deviceLimits[k];
  const info: WebGPUInfo = {
    vendor: ai.vendor,
    architecture: ai.architecture,
    device: ai.device,
    description: ai.description,
    backendType: platformBackend(),
    isFallbackAdapter: Boolean((ai as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...device.features].sort(),
    limits,
  };
  const facts: DeviceFacts = {
    maxInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageBytes: device.limits.maxComputeWorkgroupStorageSize,
    maxBindingBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize),
    software: detectSoftware(info, options.profile),
  };
  return new WebGPUBackend(device, info, facts, options);
}

/** Whether a WebGPU adapter is available, and which (never throws). */
export async function probeWebGPU(): Promise<{ ok: true; adapter: string } | { ok: false; reason: string }> {
  try {
    const gpu = await createGPU();
    const a = await requestAdapter(gpu);
    return { ok: true, adapter: `${a.info.vendor} ${a.info.architecture} ${a.info.device}`.trim() };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
