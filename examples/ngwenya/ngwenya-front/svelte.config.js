// adapter-auto picks an adapter for the hosting platform it detects at build time.
// Where it detects none, as on a developer machine, it warns and writes no deployable output.
// @sveltejs/adapter-node is installed as a devDependency so that a Node deployment
// can switch the import below to it and get a standalone server in build/.
import adapter from '@sveltejs/adapter-auto';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    adapter: adapter(),
  },
};

export default config;
