// Routes: public login, the forced password change, and the code-split pages behind the session.

import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { ErrorBoundary, Loading } from '../components/Feedback';
import { LoginPage, PasswordPage } from '../pages/Login';
import { useApp } from './context';
import { Layout } from './Layout';

const Overview = lazy(() => import('../pages/Overview'));
const Users = lazy(() => import('../pages/Users'));
const PlatformRoles = lazy(() => import('../pages/PlatformRoles'));
const Workspaces = lazy(() => import('../pages/Workspaces'));
const Workspace = lazy(() => import('../pages/Workspace'));
const Project = lazy(() => import('../pages/Project'));
const Cluster = lazy(() => import('../pages/Cluster'));

function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useApp();
  const location = useLocation();
  if (!session) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (session.mustChangePassword) return <Navigate to="/password" replace />;
  return <>{children}</>;
}

export function AppRoutes() {
  return (
    <ErrorBoundary>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/password" element={<PasswordPage forced />} />
          <Route
            element={
              <RequireSession>
                <Layout />
              </RequireSession>
            }
          >
            <Route path="/overview" element={<Overview />} />
            <Route path="/account" element={<PasswordPage forced={false} />} />
            <Route path="/users" element={<Users />} />
            <Route path="/roles" element={<PlatformRoles />} />
            <Route path="/workspaces" element={<Workspaces />} />
            <Route path="/workspaces/:ws/*" element={<Workspace />} />
            <Route path="/projects/:ns/*" element={<Project />} />
            <Route path="/cluster/*" element={<Cluster />} />
            <Route path="*" element={<Navigate to="/overview" replace />} />
          </Route>
        </Routes>
      </Suspense>
    </ErrorBoundary>
  );
}

export function App() {
  return (
    <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <AppRoutes />
    </BrowserRouter>
  );
}
