// Environment a process must have before its first CUDA session: cuBLAS and cuDNN read it when they
// load. TF32 rounds fp32 matrix products to 10-bit mantissas, which breaks the exactness of the fp32
// emulation paths, and onnxruntime-node offers no provider option to turn it off. The CLI sets it at
// start (a module of its own, so that does not load onnxruntime).
export const CUDA_PROCESS_ENVIRONMENT: Readonly<Record<string, string>> = {NVIDIA_TF32_OVERRIDE: '0'};
