# ---------------------------------------------------------------------------
# The shard fan-out (docs/design.md §7): a sharded generateDataset publishes one
# message per shard to this topic; Eventarc's Pub/Sub trigger of generateShard
# (functions.tf) subscribes to it and delivers each message as a
# google.cloud.pubsub.topic.v1.messagePublished CloudEvent, retrying until the
# function acknowledges it. Pub/Sub's at-least-once delivery and Cloud
# Functions' autoscaling (up to generateShard's max_instances) are the whole
# scheduler.
# ---------------------------------------------------------------------------
resource "google_pubsub_topic" "shards" {
  # checkov:skip=CKV_GCP_83:Messages are {version, shard, shards} and nothing else (no data, no config); Google-managed encryption suffices, and a customer key would add a KMS key to manage and its grant to the Pub/Sub service agent.
  project = var.project_id
  name    = "dataset-shards"
  labels  = var.labels

  # A shard message is worth nothing once its version's lease has run out
  # (the version is failed by then): keep messages a day, not the default 7,
  # so a backlog after an outage cannot replay stale work for a week.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.apis]
}

# generateDataset publishes the shard messages: publisher on this topic only,
# nothing at project level.
resource "google_pubsub_topic_iam_member" "shards_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.shards.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.fn["generateDataset"].member
}
