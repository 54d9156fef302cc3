{{/* Everything a service chart renders: its templates/service.yaml is `{{ include "multipult.serviceChart" . }}`. */}}
{{- define "multipult.serviceChart" -}}
{{- $parts := list "multipult.serviceAccount" "multipult.configmap" "multipult.secret" "multipult.deployment" "multipult.service" "multipult.hpa" "multipult.pdb" "multipult.networkPolicy" "multipult.migrationJob" "multipult.serviceMonitor" "multipult.prometheusRule" -}}
{{- range $part := $parts }}
{{- $rendered := include $part $ | trim }}
{{- if $rendered }}
---
{{ $rendered }}
{{- end }}
{{- end }}
{{- end -}}
