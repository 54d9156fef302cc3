{{/*
Only what the service needs: the gateway takes traffic from anywhere (the ingress controller), a
subgraph only from the gateway and the services that call it; metrics only on the metrics port;
out to DNS, PostgreSQL, Redis, Kafka, the services it calls (auth's JWKS among them) and, where the
service talks to the outside world (OIDC, SMTP, webhooks, JIRA, model endpoints), the ports it uses.
*/}}
{{- define "multipult.podRef" -}}
podSelector:
  matchLabels:
    app.kubernetes.io/name: {{ .service }}
    app.kubernetes.io/instance: {{ include "multipult.platform" .root }}
{{- end -}}

{{/* A caller's pods: those serving and, where it has them, its workers (they call too while handling events and jobs). */}}
{{- define "multipult.callerRef" -}}
podSelector:
  matchLabels:
    app.kubernetes.io/instance: {{ include "multipult.platform" .root }}
  matchExpressions:
    - key: app.kubernetes.io/name
      operator: In
      values: [{{ .service | quote }}, {{ printf "%s-worker" .service | quote }}]
{{- end -}}

{{- define "multipult.networkPolicy" -}}
{{- if .Values.global.networkPolicy.enabled -}}
{{- $root := . -}}
{{- $np := .Values.networkPolicy -}}
{{- $infra := .Values.global.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "multipult.fullname" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ include "multipult.platform" . }}
    matchExpressions:
      - key: app.kubernetes.io/name
        operator: In
        values:
          - {{ include "multipult.serviceName" . }}
          {{- if and (include "multipult.hasDatabase" .) .Values.migrations.enabled }}
          - {{ include "multipult.serviceName" . }}-migrate
          {{- end }}
          {{- if include "multipult.workersEnabled" . }}
          - {{ include "multipult.serviceName" . }}-worker
          {{- end }}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - port: http
          protocol: TCP
      {{- if $np.public }}
      {{- with $np.ingressFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- else }}
      from:
        {{- range $caller := $np.allowedCallers }}
        - {{- include "multipult.callerRef" (dict "root" $root "service" $caller) | nindent 10 }}
        {{- end }}
      {{- end }}
    - ports:
        - port: metrics
          protocol: TCP
      {{- with $infra.metricsFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- if include "multipult.hasDatabase" . }}
    - ports:
        - port: {{ $infra.postgres.port }}
          protocol: TCP
      {{- with $infra.postgres.to }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if .Values.redis.enabled }}
    - ports:
        - port: {{ $infra.redis.port }}
          protocol: TCP
      {{- with $infra.redis.to }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if .Values.kafka.enabled }}
    - ports:
        {{- range $infra.kafka.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $infra.kafka.to }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- if .Values.tokens.verify }}
    - ports:
        - port: {{ .Values.global.authPort }}
          protocol: TCP
      to:
        - {{- include "multipult.podRef" (dict "root" $root "service" "auth") | nindent 10 }}
    {{- end }}
    {{- range $called := .Values.calls }}
    - ports:
        - port: {{ $called.port }}
          protocol: TCP
      to:
        - {{- include "multipult.podRef" (dict "root" $root "service" $called.name) | nindent 10 }}
    {{- end }}
    {{- range $np.externalEgress }}
    - ports:
        {{- range .ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with .to }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end -}}
{{- end -}}
