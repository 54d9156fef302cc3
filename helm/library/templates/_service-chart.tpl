{{/* Everything a service chart renders: its templates/service.yaml is `{{ include "multipult.serviceChart" . }}`. */}}
{{- define "multipult.serviceChart" -}}
{{- $parts := list "multipult.serviceAccount" "multipult.configmap" "multipult.secret" "multipult.deployment" "multipult.service" "multipult.hpa" "multipult.pdb" "multipult.networkPolicy" "multipult.migrationJob" "multipult.serviceMonitor" "multipult.prometheusRule" -}}
{{- include "multipult.renderParts" (dict "parts" $parts "context" .) }}
{{- if include "multipult.workersEnabled" . }}
{{- /* The same pods with the workers' replicas, autoscaling and resources, under labels of their own. */ -}}
{{- $workerValues := deepCopy .Values -}}
{{- range $key, $value := dict "role" "worker" "component" "worker" "replicaCount" .Values.workers.replicaCount "autoscaling" .Values.workers.autoscaling "resources" (.Values.workers.resources | default .Values.resources) }}
{{- $_ := set $workerValues $key $value -}}
{{- end }}
{{- $worker := dict "Values" $workerValues "Chart" .Chart "Release" .Release "Capabilities" .Capabilities "Template" .Template "Files" .Files -}}
{{- include "multipult.renderParts" (dict "parts" (list "multipult.deployment" "multipult.workerMetricsService" "multipult.hpa" "multipult.pdb") "context" $worker) }}
{{- end }}
{{- end -}}

{{/* Each named template of `parts` rendered with `context`, as its own YAML document; empty ones left out. */}}
{{- define "multipult.renderParts" -}}
{{- range $part := .parts }}
{{- $rendered := include $part $.context | trim }}
{{- if $rendered }}
---
{{ $rendered }}
{{- end }}
{{- end }}
{{- end -}}
