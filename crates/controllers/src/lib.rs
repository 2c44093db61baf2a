//! Built-in workload controllers for embedded mode (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Endpoints), written with kube-runtime against the Kubernetes API only.
