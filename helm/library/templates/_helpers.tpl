{{/*
Names. A service's resources are named <platform>-<service> (global.platform, default "multipult"),
not after the release, so a service is found at the same address whether the umbrella chart or the
service's own release installs it.
*/}}
{{- define "multipult.platform" -}}
{{- .Values.global.platform | default "multipult" -}}
{{- end -}}

{{- define "multipult.serviceName" -}}
{{- .Values.serviceName | default .Chart.Name -}}
{{- end -}}

{{- define "multipult.fullname" -}}
{{- printf "%s-%s" (include "multipult.platform" .) (include "multipult.serviceName" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The address of another service of the platform: multipult.serviceHost (dict "root" . "service" "auth") */}}
{{- define "multipult.serviceHost" -}}
{{- printf "%s-%s" (include "multipult.platform" .root) .service -}}
{{- end -}}

{{- define "multipult.selectorLabels" -}}
app.kubernetes.io/name: {{ include "multipult.serviceName" . }}
app.kubernetes.io/instance: {{ include "multipult.platform" . }}
{{- end -}}

{{/* The pods doing the service's background work when workers.enabled; the Service never routes to them. */}}
{{- define "multipult.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "multipult.serviceName" . }}-worker
app.kubernetes.io/instance: {{ include "multipult.platform" . }}
{{- end -}}

{{/* Whether the service runs its background work on worker pods of its own (values workers.enabled). */}}
{{- define "multipult.workersEnabled" -}}
{{- with .Values.workers }}{{ if .enabled }}true{{ end }}{{ end -}}
{{- end -}}

{{/* Whether this context renders the worker workload (values role "worker", set by multipult.serviceChart). */}}
{{- define "multipult.isWorker" -}}
{{- if eq (.Values.role | default "") "worker" }}true{{ end -}}
{{- end -}}

{{/* The Deployment, HPA and PDB name: <platform>-<service>, or <platform>-<service>-worker. */}}
{{- define "multipult.workloadName" -}}
{{- if include "multipult.isWorker" . -}}
{{- printf "%s-worker" (include "multipult.fullname" .) -}}
{{- else -}}
{{- include "multipult.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "multipult.podSelectorLabels" -}}
{{- if include "multipult.isWorker" . -}}
{{ include "multipult.workerSelectorLabels" . }}
{{- else -}}
{{ include "multipult.selectorLabels" . }}
{{- end -}}
{{- end -}}

{{- define "multipult.migrationSelectorLabels" -}}
app.kubernetes.io/name: {{ include "multipult.serviceName" . }}-migrate
app.kubernetes.io/instance: {{ include "multipult.platform" . }}
{{- end -}}

{{- define "multipult.labels" -}}
{{ include "multipult.selectorLabels" . }}
app.kubernetes.io/part-of: multipult
app.kubernetes.io/component: {{ .Values.component | default "subgraph" }}
app.kubernetes.io/version: {{ include "multipult.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "multipult.imageTag" -}}
{{- .Values.image.tag | default .Values.global.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "multipult.image" -}}
{{- $registry := .Values.global.image.registry -}}
{{- $repository := .Values.image.repository | default (printf "multipult/%s" (include "multipult.serviceName" .)) -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry $repository (include "multipult.imageTag" .) -}}
{{- else -}}
{{- printf "%s:%s" $repository (include "multipult.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "multipult.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "multipult.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The entry point of the service inside the image (deploy/Dockerfile copies dist/apps/<app> to /app/dist). */}}
{{- define "multipult.entrypoint" -}}
{{- printf "dist/apps/%s/src/main.js" (include "multipult.serviceName" .) -}}
{{- end -}}

{{/* Whether the service keeps state in PostgreSQL (every subgraph; not the gateway). */}}
{{- define "multipult.hasDatabase" -}}
{{- if .Values.database.enabled }}true{{ end -}}
{{- end -}}

{{/* The shared secret (INTERNAL_API_SECRET, EMAIL_TOKEN_SEAL_KEY) the umbrella chart creates or ops provide. */}}
{{- define "multipult.sharedSecretName" -}}
{{- .Values.global.sharedSecret.existingSecret | default (printf "%s-shared" (include "multipult.platform" .)) -}}
{{- end -}}

{{/* Hook annotations for what the migration Job needs before the release's own resources exist. */}}
{{- define "multipult.preInstallHook" -}}
{{- if and (include "multipult.hasDatabase" .) .Values.migrations.enabled }}
annotations:
  helm.sh/hook: pre-install,pre-upgrade
  helm.sh/hook-weight: "-10"
  helm.sh/hook-delete-policy: before-hook-creation
{{- end }}
{{- end -}}
