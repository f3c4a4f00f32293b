/** Some of the back-end services of ngwenya-federation, with the default port of each. */
export const services = [
  { name: 'gateway', port: 30000, runtime: 'NestJS' },
  { name: 'products', port: 3002, runtime: 'NestJS' },
  { name: 'ucart', port: 3003, runtime: 'NestJS' },
  { name: 'orders', port: 3005, runtime: 'NestJS' },
  { name: 'payments', port: 3006, runtime: 'NestJS' },
  { name: 'auth', port: 3008, runtime: 'Rust' },
  { name: 'uchat', port: 3020, runtime: 'Rust' },
];
