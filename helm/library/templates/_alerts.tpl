{{/*
The alert rules of one service, as PrometheusRule groups. Every expression is scoped to the
service (the `service` label every metric carries), so each chart ships the rules of its service.
*/}}
{{- define "multipult.alertRules" -}}
{{- $service := include "multipult.serviceName" . -}}
- name: {{ $service }}.requests
  rules:
    - alert: HighRequestErrorRate
      expr: |
        sum by (service) (rate(http_request_duration_seconds_count{service="{{ $service }}",status_code=~"5.."}[5m]))
          / sum by (service) (rate(http_request_duration_seconds_count{service="{{ $service }}"}[5m])) > 0.05
      for: 5m
      labels:
        severity: critical
      annotations:
        summary: '{{ $service }}: more than 5% of requests fail with 5xx'
        runbook_url: https://github.com/multipult/multipult/blob/main/docs/runbooks/high-request-error-rate.md
{{- end -}}
