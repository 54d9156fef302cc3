{{/* The service's alert rules (multipult.alertRules, in _alerts.tpl) as a Prometheus Operator PrometheusRule. */}}
{{- define "multipult.prometheusRule" -}}
{{- if .Values.global.metrics.prometheusRule.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "multipult.fullname" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
    {{- with .Values.global.metrics.prometheusRule.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  groups:
    {{- include "multipult.alertRules" . | nindent 4 }}
{{- end -}}
{{- end -}}
