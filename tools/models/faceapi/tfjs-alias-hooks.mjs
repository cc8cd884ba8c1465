// Node resolve hooks for running face-api's unbundled build on tfjs-core alone: it imports the
// umbrella '@tensorflow/tfjs' (not installed) and the webgl/wasm backends by their dist paths.
export async function resolve(specifier, context, next) {
  if (specifier === '@tensorflow/tfjs' || specifier === '@tensorflow/tfjs/dist/index.js') {
    return next('@tensorflow/tfjs-core', context);
  }
  if (/^@tensorflow\/tfjs-backend-(webgl|wasm)\/dist\/index\.js$/.test(specifier)) {
    return { url: 'data:text/javascript,export {}', shortCircuit: true };
  }
  return next(specifier, context);
}
