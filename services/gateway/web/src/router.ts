/** Routes: one per page; the heavy Symbol page (the chart library) loads on demand. */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import SignalsView from './views/SignalsView.vue';

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'signals', component: SignalsView, meta: { title: 'Signals' } },
  {
    path: '/symbol/:symbol',
    name: 'symbol',
    component: () => import('./views/SymbolView.vue'),
    meta: { title: 'Symbol' },
  },
  {
    path: '/portfolio',
    name: 'portfolio',
    component: () => import('./views/PortfolioView.vue'),
    meta: { title: 'Portfolio' },
  },
  { path: '/ml', name: 'ml', component: () => import('./views/MlView.vue'), meta: { title: 'ML' } },
  {
    path: '/backtests',
    name: 'backtests',
    component: () => import('./views/BacktestsView.vue'),
    meta: { title: 'Backtests' },
  },
  {
    path: '/settings',
    name: 'settings',
    component: () => import('./views/SettingsView.vue'),
    meta: { title: 'Settings' },
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
];

export function makeRouter() {
  const router = createRouter({ history: createWebHistory(), routes });
  router.afterEach((to) => {
    const page = to.name === 'symbol' ? String(to.params.symbol) : (to.meta.title as string | undefined);
    document.title = page ? `${page} · swingflow` : 'swingflow';
  });
  return router;
}
