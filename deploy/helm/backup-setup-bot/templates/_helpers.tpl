{{- define "bsb.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bsb.labels" -}}
app.kubernetes.io/name: backup-setup-bot
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "bsb.selector" -}}
app.kubernetes.io/name: backup-setup-bot
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bsb.serviceAccountName" -}}
{{- default (include "bsb.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}
