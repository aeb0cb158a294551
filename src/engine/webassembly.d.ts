/**
 * The slice of the WebAssembly JS API the engine uses. The project compiles with lib ES2023 and Node types
 * only (no DOM lib), which do not declare the `WebAssembly` global that Node provides.
 */
declare namespace WebAssembly {
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
    static imports(m: Module): { module: string; name: string; kind: string }[];
    static exports(m: Module): { name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
}
