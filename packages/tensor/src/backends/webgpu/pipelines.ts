/**
 * Compute pipelines cached by shader source (the generated WGSL is the key, so two launches
 * that generate the same code share a pipeline whatever their shapes, which live in uniforms).
 * Bind-group layouts are explicit and cached by access pattern: `layout: 'auto'` would drop
 * bindings a shader happens not to use and break the generic bind-group code.
 */

/** Shader stage flag for compute (`GPUShaderStage.COMPUTE`). */
const COMPUTE_STAGE = 0x4;

/** A cached pipeline and its layout. */
export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * `WEBGPU_PRINT_SHADER=<substring>` prints every newly compiled shader whose kernel name
 * contains the substring (`all` or `*` prints all), like tfjs's flag of the same name.
 */
function printFilter(): string | null {
  const v = typeof process !== 'undefined' ? process.env?.WEBGPU_PRINT_SHADER : undefined;
  return v ? v : null;
}

/** Pipeline and layout cache for one device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelineLayouts = new Map<string, GPUPipelineLayout>();

  constructor(private readonly device: GPUDevice) {}

  /** The bind-group layout for a uniform at binding 0 plus storage bindings with `access`. */
  layout(access: string): GPUBindGroupLayout {
    let l = this.layouts.get(access);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'uniform' } }];
      for (let i = 0; i < access.length; i++) {
        entries.push({
          binding: i + 1,
          visibility: COMPUTE_STAGE,
          buffer: { type: access[i] === 'w' ? 'storage' : 'read-only-storage' },
        });
      }
      l = this.device.createBindGroupLayout({ entries, label: `layout:${access || '-'}` });
      this.layouts.set(access, l);
      this.pipelineLayouts.set(access, this.device.createPipelineLayout({ bindGroupLayouts: [l] }));
    }
    return l;
  }

  /**
   * The pipeline for `code`, compiled on first use. Compile errors are reported through the
   * device's error scopes (see `errors.ts`), not thrown here.
   */
  get(name: string, code: string, access: string): CachedPipeline {
    const hit = this.pipelines.get(code);
    if (hit) return hit;
    const filter = printFilter();
    if (filter && (filter === 'all' || filter === '*' || name.includes(filter))) {
      console.log(`// ---- WebGPU shader '${name}' ----\n${code}`);
    }
    const layout = this.layout(access);
    const module = this.device.createShaderModule({ code, label: name });
    const pipeline = this.device.createComputePipeline({
      layout: this.pipelineLayouts.get(access)!,
      compute: { module, entryPoint: 'main' },
      label: name,
    });
    const entry = { pipeline, layout };
    this.pipelines.set(code, entry);
    return entry;
  }

  /** Number of distinct pipelines compiled so far. */
  get size(): number {
    return this.pipelines.size;
  }
}
