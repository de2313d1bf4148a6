/** The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe. */
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: AudioWorkletNodeOptions);
  abstract process(
    inputs: Float32Array[][],
    outputs: Float32Array[][],
    parameters: Record<string, Float32Array>,
  ): boolean;
}

declare function registerProcessor(
  name: string,
  processor: new (options: AudioWorkletNodeOptions) => AudioWorkletProcessor,
): void;
/** The render quantum's first frame, in the context's audio clock (AudioWorkletGlobalScope). */
declare const currentFrame: number;
