// The ModelProto fields around a test's graph, which no test looks at.
import type {Graph, Model} from '../../src/onnx/ir.js';

export function modelOf(graph: Graph, opset = 17): Model {
  return {
    irVersion: 8,
    opsetImports: [{domain: '', version: opset}],
    producerName: 'axx-test',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    metadataProps: [],
    graph,
  };
}
