output "function_urls" {
  description = "URL of every function (https://REGION-PROJECT.cloudfunctions.net/<name>)."
  value       = { for name, fn in google_cloudfunctions2_function.fn : name => fn.url }
}

output "datasets_bucket" {
  description = "The private datasets bucket (DATASETS_BUCKET)."
  value       = google_storage_bucket.datasets.name
}

output "source_bucket" {
  description = "Bucket of the function source archives."
  value       = google_storage_bucket.source.name
}

output "source_object" {
  description = "Source archive the functions were built from."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}

output "service_accounts" {
  description = "Runtime identity of each function, and the build and Eventarc delivery identities."
  value = merge(
    { for name, sa in google_service_account.fn : name => sa.email },
    { build = google_service_account.build.email, events = google_service_account.events.email },
  )
}

locals {
  auth = "-H \"Authorization: Bearer $(gcloud auth print-identity-token)\""
  curl = {
    generateDataset = join(" ", [
      "curl -sS -X POST", local.auth, "-H 'Content-Type: application/json'",
      "-d '{\"nSamples\": 10000000, \"seed\": 42}'",
      google_cloudfunctions2_function.fn["generateDataset"].url,
    ])
    loadParquet  = "curl -sS ${local.auth} '${google_cloudfunctions2_function.fn["loadParquet"].url}?version=latest'"
    loadTfrecord = "curl -sS ${local.auth} '${google_cloudfunctions2_function.fn["loadTfrecord"].url}?version=latest&ttlSeconds=3600'"
    loadMetadata = "curl -sS ${local.auth} '${google_cloudfunctions2_function.fn["loadMetadata"].url}?version=latest'"
    listDatasets = "curl -sS ${local.auth} '${google_cloudfunctions2_function.fn["listDatasets"].url}?limit=20'"
    evaluatePolicy = join(" ", [
      "curl -sS -X POST", local.auth, "-H 'Content-Type: application/json'",
      "-d '{\"version\": \"latest\", \"policy\": {\"type\": \"softmax\", \"beta\": 100}}'",
      google_cloudfunctions2_function.fn["evaluatePolicy"].url,
    ])
  }
}

output "curl_commands" {
  description = "Ready-to-paste calls of the HTTP functions, authenticated as the gcloud user (who must be in invoker_members). recordDatasetMetadata and generateShard are event-driven and have none."
  value       = local.curl
}

output "recorder_trigger" {
  description = "The Eventarc trigger that feeds recordDatasetMetadata."
  value       = google_cloudfunctions2_function.fn["recordDatasetMetadata"].event_trigger[0].trigger
}

output "shard_topic" {
  description = "The Pub/Sub topic of the shard fan-out (SHARD_TOPIC); generateShard's trigger subscribes to it."
  value       = google_pubsub_topic.shards.id
}

output "shard_trigger" {
  description = "The Eventarc trigger that feeds generateShard."
  value       = google_cloudfunctions2_function.fn["generateShard"].event_trigger[0].trigger
}
