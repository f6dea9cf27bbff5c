//! `/v1/files`: upload (multipart, `purpose=batch`), list, read, download and delete the files
//! batches read and write; OpenAI's and Mistral's SDKs both call these paths.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Multipart, Path, State};
use axum::response::Response;
use serde_json::Value;

use super::batches::{batches, owner};
use crate::batch::{files, views};
use crate::error::ApiError;
use crate::keys::Caller;
use crate::state::AppState;

pub async fn upload(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    mut form: Multipart,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    let limit = batches.settings.max_upload_bytes;
    let (mut content, mut filename, mut purpose) = (None, None, None);
    while let Some(mut field) = form.next_field().await.map_err(multipart)? {
        match field.name() {
            Some("file") => {
                filename = field.file_name().map(str::to_owned);
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart)? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(too_large(limit));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                content = Some(bytes);
            }
            Some("purpose") => purpose = Some(field.text().await.map_err(multipart)?),
            // OpenAI's `expires_after[...]` and others: nothing to keep.
            _ => {}
        }
    }
    let content = content.ok_or_else(|| ApiError::invalid("file", "a multipart `file` part is required"))?;
    let purpose = purpose.unwrap_or_else(|| "batch".into());
    if purpose != "batch" {
        return Err(ApiError::invalid(
            "purpose",
            format!(
                "`{}` is not supported here; upload batch inputs with purpose \"batch\"",
                purpose.chars().take(40).collect::<String>()
            ),
        ));
    }
    let filename = filename.unwrap_or_else(|| "input.jsonl".into());
    let file = files::create(&batches.store, owner(&caller), &filename, "batch", "batch_request", content).await?;
    Ok(Json(views::file_object(&file)))
}

pub async fn list(State(state): State<AppState>, caller: Option<Extension<Caller>>) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    Ok(Json(views::file_list(&files::list(&batches.store, owner(&caller)).await?)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    Ok(Json(views::file_object(&files::get(&batches.store, owner(&caller), &id).await?)))
}

pub async fn content(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let batches = batches(&state)?;
    let (_, bytes) = files::content(&batches.store, owner(&caller), &id).await?;
    Response::builder()
        .header(http::header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let batches = batches(&state)?;
    Ok(Json(views::file_deleted(&files::delete(&batches.store, owner(&caller), &id).await?)))
}

fn multipart(error: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::invalid("file", format!("the upload is not a readable multipart/form-data body ({})", error.body_text()))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::UploadTooLarge(format!(
        "the file is larger than {limit} bytes, more than API Gateway and Lambda carry; put large batch inputs in the bucket directly with the operator CLI: `gateway-admin files upload FILE` (README › Batch), then create the batch with the file id it prints"
    ))
}
