# ---------------------------------------------------------------------------
# Eventarc: Cloud Storage "object finalized" events of the datasets bucket go
# to recordDatasetMetadata, and the messages of the shard topic (pubsub.tf) to
# generateShard. Each trigger is the event_trigger block of its function
# (functions.tf), which makes Cloud Functions own its lifecycle; this file
# holds the identities and grants they need.
# ---------------------------------------------------------------------------

# Identity Eventarc uses to deliver events (push with an OIDC token).
resource "google_service_account" "events" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-events"
  display_name = "exploration-data Eventarc delivery"
  description  = "Delivers datasets-bucket events to recordDatasetMetadata and shard messages to generateShard."

  depends_on = [google_project_service.apis]
}

# It may receive events (no narrower scope exists for this role) ...
resource "google_project_iam_member" "events_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.events.member
}

# ... and invoke the event functions (recordDatasetMetadata, generateShard),
# and nothing else.
resource "google_cloud_run_v2_service_iam_member" "events_invoker" {
  for_each = local.event_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.events.member
}

# Cloud Storage publishes bucket events to Pub/Sub (Eventarc's transport) as
# the project's Cloud Storage service agent, which needs the publisher role.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "gcs_pubsub_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = data.google_storage_project_service_account.gcs.member
}

# Projects created before 8 April 2021 also need the Pub/Sub service agent to
# mint tokens for the delivery identity (authenticated push). Scoped to that
# one service account rather than the project.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = var.grant_pubsub_token_creator ? 1 : 0

  service_account_id = google_service_account.events.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
