// Files embedded into the binary by Bun's loaders.
declare module '*.sql' { const text: string; export default text }
declare module '*.css' { const path: string; export default path }
declare module '*.js' { const path: string; export default path }
declare module '*.png' { const path: string; export default path }
