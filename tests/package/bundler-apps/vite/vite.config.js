import { remotemediaWeb } from 'remotemedia-web/vite';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [remotemediaWeb()] });
