import { defineConfig } from 'astro/config';

export default defineConfig({
  build: {
    // Astro inlines stylesheets smaller than 4 kB by default. Always emitting them
    // as files gives every build a content-hashed stylesheet under dist/_astro/.
    inlineStylesheets: 'never',
  },
});
