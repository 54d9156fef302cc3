{{/* The service's plain settings: one ConfigMap, loaded whole with envFrom. */}}
{{- define "multipult.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "multipult.fullname" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
  {{- include "multipult.preInstallHook" . | nindent 2 }}
data:
  {{- include "multipult.configData" . | nindent 2 }}
{{- end -}}

{{- define "multipult.configData" -}}
{{- $root := . -}}
{{- $data := dict
  "NODE_ENV" "production"
  "HOST" "0.0.0.0"
  "PORT" (toString .Values.port)
  "METRICS_PORT" (toString .Values.metricsPort)
  "LOG_LEVEL" (.Values.logLevel | default .Values.global.logLevel)
  "SHUTDOWN_GRACE_SECONDS" (toString .Values.shutdownGraceSeconds)
  "REDIS_KEY_PREFIX" .Values.global.redis.keyPrefix
-}}
{{- if .Values.kafka.enabled -}}
{{- $_ := set $data "KAFKA_BROKERS" (required "global.kafka.brokers is required: host:port of your Kafka bootstrap servers, comma-separated" .Values.global.kafka.brokers) -}}
{{- $_ := set $data "KAFKA_TOPIC_PREFIX" .Values.global.kafka.topicPrefix -}}
{{- end -}}
{{- if .Values.tokens.verify -}}
{{- $_ := set $data "AUTH_JWKS_URL" (printf "http://%s:%v/.well-known/jwks.json" (include "multipult.serviceHost" (dict "root" $root "service" "auth")) .Values.global.authPort) -}}
{{- end -}}
{{- $subgraphs := list -}}
{{- range $called := .Values.calls -}}
{{- $url := printf "http://%s:%v/graphql" (include "multipult.serviceHost" (dict "root" $root "service" $called.name)) $called.port -}}
{{- $subgraphs = append $subgraphs (printf "%s=%s" $called.name $url) -}}
{{- if ne $root.Values.component "gateway" -}}
{{- $_ := set $data (printf "%s_GRAPHQL_URL" ($called.name | upper)) $url -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.component "gateway" -}}
{{- $_ := set $data "SUBGRAPHS" (join "," $subgraphs) -}}
{{- $_ := set $data "SUPERGRAPH_PATH" "/etc/multipult/supergraph/supergraph.graphql" -}}
{{- $_ := set $data "SUPERGRAPH_WATCH_SECONDS" (toString .Values.supergraph.watchSeconds) -}}
{{- end -}}
{{- if include "multipult.hasDatabase" . -}}
{{- $_ := set $data "DATABASE_MIGRATIONS_RUN" (ternary "false" "true" .Values.migrations.enabled) -}}
{{- end -}}
{{- range $key, $value := .Values.retention -}}
{{- $_ := set $data (index $root.Values.retentionEnv $key) (toString $value) -}}
{{- end -}}
{{- range $name, $value := .Values.config -}}
{{- $_ := set $data $name (toString $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
The service's own secrets: secretEnv as given, plus generatedSecrets created once and kept across
upgrades (read back with lookup), plus connection strings given as plain values. Not rendered when
existingSecret names a Secret that ops manage.
*/}}
{{- define "multipult.secret" -}}
{{- if not .Values.existingSecret -}}
{{- $name := include "multipult.fullname" . -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $data := dict -}}
{{- range $key := .Values.generatedSecrets -}}
{{- if and $existing (hasKey $existing.data $key) -}}
{{- $_ := set $data $key (index $existing.data $key) -}}
{{- else -}}
{{- $_ := set $data $key (randAlphaNum 48 | b64enc) -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := .Values.secretEnv -}}
{{- $_ := set $data $key (toString $value | b64enc) -}}
{{- end -}}
{{- if and (include "multipult.hasDatabase" .) .Values.global.database.url -}}
{{- $_ := set $data "DATABASE_URL" (.Values.global.database.url | b64enc) -}}
{{- end -}}
{{- if and .Values.redis.enabled .Values.global.redis.url -}}
{{- $_ := set $data "REDIS_URL" (.Values.global.redis.url | b64enc) -}}
{{- end -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
  {{- include "multipult.preInstallHook" . | nindent 2 }}
type: Opaque
data:
  {{- toYaml $data | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* Variables read from Secrets key by key: connection strings from existing secrets, shared keys, secretRefs. */}}
{{- define "multipult.secretEnv" -}}
{{- if and (include "multipult.hasDatabase" .) (not .Values.global.database.url) }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.global.database.existingSecret }}
      key: {{ .Values.global.database.existingSecretKey }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.global.redis.url) }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.global.redis.existingSecret }}
      key: {{ .Values.global.redis.existingSecretKey }}
{{- end }}
{{- $shared := include "multipult.sharedSecretName" . }}
{{- range $key := .Values.sharedSecretKeys }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $shared }}
      key: {{ $key }}
{{- end }}
{{- range $env, $ref := .Values.secretRefs }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- end }}
{{- end -}}

{{- define "multipult.envFrom" -}}
- configMapRef:
    name: {{ include "multipult.fullname" . }}
- secretRef:
    name: {{ .Values.existingSecret | default (include "multipult.fullname" .) }}
{{- end -}}
