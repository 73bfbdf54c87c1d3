/** The tolerance table lives with the code that also uses it (`mtcnn diff`): src/io/tolerances.ts. */
export * from '../src/io/tolerances.ts';
