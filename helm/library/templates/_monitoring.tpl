{{- define "multipult.serviceMonitor" -}}
{{- if .Values.global.metrics.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "multipult.fullname" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
    {{- with .Values.global.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "multipult.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      # The services label every metric with `service`; without this the operator's own `service`
      # label (the Kubernetes Service name) would replace it and the alerts' filters would match nothing.
      honorLabels: true
      interval: {{ .Values.global.metrics.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.global.metrics.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}
