export { default as subgraphGenerator } from './subgraph/generator';
