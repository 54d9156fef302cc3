{{- define "multipult.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "multipult.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- with .Values.extraCapabilities }}
  add: {{ toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* Writable places under a read-only root: /tmp, and the service's own volumes. */}}
{{- define "multipult.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- range .Values.volumes }}
- name: {{ .name }}
  mountPath: {{ .mountPath }}
{{- end }}
{{- if .Values.supergraph }}
- name: supergraph
  mountPath: /etc/multipult/supergraph
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "multipult.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- range .Values.volumes }}
- name: {{ .name }}
  {{- if .existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .size }}
  {{- end }}
{{- end }}
{{- if .Values.supergraph }}
# Mounted as a directory, not subPath: the kubelet then swaps in a published supergraph and the gateway reloads it.
- name: supergraph
  configMap:
    name: {{ .Values.supergraph.configMapName }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "multipult.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "multipult.workloadName" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "multipult.podSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "multipult.podSelectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: multipult
      annotations:
        checksum/config: {{ include "multipult.configData" . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "multipult.serviceAccountName" . }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "multipult.podSecurityContext" . | nindent 8 }}
      {{- with .Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      # Longer than SHUTDOWN_GRACE_SECONDS: readiness turns 503 first, then in-flight work drains.
      terminationGracePeriodSeconds: {{ add .Values.shutdownGraceSeconds 20 }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "multipult.podSelectorLabels" . | nindent 14 }}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: {{ .Values.topologySpread.hostnameWhenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "multipult.podSelectorLabels" . | nindent 14 }}
      {{- end }}
      containers:
        - name: {{ include "multipult.serviceName" . }}
          image: {{ include "multipult.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["node", {{ include "multipult.entrypoint" . | quote }}]
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
            - name: metrics
              containerPort: {{ .Values.metricsPort }}
              protocol: TCP
          envFrom:
            {{- include "multipult.envFrom" . | nindent 12 }}
          env:
            {{- include "multipult.secretEnv" . | nindent 12 }}
            {{- if and (include "multipult.workersEnabled" .) (not (include "multipult.isWorker" .)) }}
            # The <service>-worker pods handle events and run jobs (and, with workers.relayOutbox, relay the outbox): these serve.
            {{- range $switch := list "EVENT_CONSUMERS_ENABLED" "JOBS_WORKERS_ENABLED" }}
            - name: {{ $switch }}
              value: "false"
            {{- end }}
            {{- if .Values.workers.relayOutbox }}
            - name: OUTBOX_RELAY_ENABLED
              value: "false"
            {{- end }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: 2
            failureThreshold: {{ .Values.probes.startupFailureThreshold }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "multipult.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "multipult.volumeMounts" . | nindent 12 }}
      volumes:
        {{- include "multipult.volumes" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* The service's migrations, applied once before the new version's pods start (node main.js migrate). */}}
{{- define "multipult.migrationJob" -}}
{{- if and (include "multipult.hasDatabase" .) .Values.migrations.enabled -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "multipult.fullname" . }}-migrate
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migrations.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migrations.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      # Not the service's selector labels: the Service must never route to this pod.
      labels:
        {{- include "multipult.migrationSelectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: multipult
        app.kubernetes.io/component: migration
    spec:
      restartPolicy: Never
      serviceAccountName: {{ include "multipult.serviceAccountName" . }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "multipult.podSecurityContext" . | nindent 8 }}
      {{- with .Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: migrate
          image: {{ include "multipult.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["node", {{ include "multipult.entrypoint" . | quote }}, "migrate"]
          envFrom:
            {{- include "multipult.envFrom" . | nindent 12 }}
          env:
            {{- include "multipult.secretEnv" . | nindent 12 }}
          resources:
            {{- toYaml .Values.migrations.resources | nindent 12 }}
          securityContext:
            {{- include "multipult.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
{{- end -}}
{{- end -}}
