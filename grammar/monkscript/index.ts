// The MonkScript loader's public API.
export { loadPaths, type LoadOptions } from './loader.js'
export { LoadResult, getPath, type ScriptChecker } from './result.js'
export { memorySource, joinPath, dirname, type FileSource } from './source.js'
export { parseManifest, type Manifest } from './manifest.js'
export { merge, mergeNode, isMap } from './merge.js'
export { readPath, type PathRef } from './paths.js'
export { TemplateError, codes } from './errors.js'
export type { Diagnostic, MapValue, NodeKind, Pos, ResolvedNode, ScriptRef, Severity, TemplateNode, Value } from './types.js'
