import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { makeRouter } from './router';
import { startLive } from './lib/live';
import { applyTheme, initialTheme, THEME_KEY } from './lib/theme';
import './styles.css';

applyTheme(initialTheme(), undefined, false);
globalThis.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', (event) => {
  if (!localStorage.getItem(THEME_KEY)) applyTheme(event.matches ? 'dark' : 'light', undefined, false);
});

const app = createApp(App);
app.use(createPinia());
app.use(makeRouter());
startLive();
app.mount('#app');
