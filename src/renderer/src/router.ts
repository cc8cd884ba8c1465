import AuditView from './views/AuditView.vue';
import { createRouter, createWebHashHistory } from 'vue-router';
import CatalogView from './views/CatalogView.vue';
import EvaluationView from './views/EvaluationView.vue';
import JobsView from './views/JobsView.vue';
import PairView from './views/PairView.vue';
import PortraitView from './views/PortraitView.vue';
import SaliencyView from './views/SaliencyView.vue';
import SubjectsView from './views/SubjectsView.vue';
import SettingsView from './views/SettingsView.vue';
import VerificationView from './views/VerificationView.vue';

// Hash history: the same build works from file:// in the window and over loopback HTTP.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/catalog' },
    { path: '/catalog', component: CatalogView, meta: { title: 'Catalog' } },
    { path: '/subjects', component: SubjectsView, meta: { title: 'Subjects' } },
    { path: '/jobs', component: JobsView, meta: { title: 'Jobs' } },
    { path: '/pair/:a([0-9a-f]{64})/:b([0-9a-f]{64})', component: PairView, meta: { title: 'Pair review' } },
    { path: '/portrait/:sha([0-9a-f]{64})', component: PortraitView, meta: { title: 'Portrait' } },
    { path: '/saliency', component: SaliencyView, meta: { title: 'Saliency lab' } },
    { path: '/evaluation', component: EvaluationView, meta: { title: 'Evaluation' } },
    { path: '/settings', component: SettingsView, meta: { title: 'Settings' } },
    { path: '/verification', component: VerificationView, meta: { title: 'Verification' } },
    { path: '/audit', component: AuditView, meta: { title: 'Audit log' } },
  ],
});

router.afterEach((to) => {
  document.title = to.meta['title'] ? `${String(to.meta['title'])} · Facet` : 'Facet';
});
