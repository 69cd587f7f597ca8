// Types for @echogarden/speex-resampler-wasm (an Emscripten build of SpeexDSP's resampler; the package ships none).
declare module '@echogarden/speex-resampler-wasm/simd' {
  export interface SpeexResamplerModule {
    readonly HEAP16: Int16Array;
    readonly HEAPU32: Uint32Array;
    readonly HEAP32: Int32Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    /** speex_resampler_init(nb_channels, in_rate, out_rate, quality, *err) → state pointer (0 on error). */
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
    _speex_resampler_destroy(state: number): void;
    /** speex_resampler_process_int(st, channel, *in, *in_len, *out, *out_len) → error code. */
    _speex_resampler_process_int(state: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
    _speex_resampler_reset_mem(state: number): number;
    _speex_resampler_skip_zeros(state: number): number;
    _speex_resampler_get_input_latency(state: number): number;
  }
  const factory: (moduleArg?: object) => Promise<SpeexResamplerModule>;
  export default factory;
}
