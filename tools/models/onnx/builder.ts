// The builder lives in the engine (backward graphs are built at run time); re-exported for tools.
export * from '../../../src/main/engine/onnx/builder';
