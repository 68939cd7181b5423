import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The marker a local activity's result is recorded with (the SDK core's name for it). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** One activity a workflow ran, as its history records it. */
export interface StepActivity {
  /** The activity type: the step's name in camel case (`debitPayer`, `notifyPayment`, …). */
  activity: string;
  /** The attempt that ended it (0 when a regular activity was scheduled but never started). */
  attempt: number;
  /** The worker that ran it: a regular activity's last start, a local activity's workflow task. */
  identity: string;
  /** A local activity (a marker in the history) rather than a regular one (scheduled on a task queue). */
  local: boolean;
}

/** What the SDK core writes into a local activity's marker, as JSON (proto field names, either spelling). */
interface LocalActivityMarkerData {
  activityType?: string;
  activity_type?: string;
  attempt?: number;
}

function markerDataOf(event: HistoryEvent): LocalActivityMarkerData | null {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return null;
  const payload = marker.details?.data?.payloads?.[0]?.data;
  if (!payload) throw new Error(`local activity marker ${String(event.eventId)} carries no data`);
  return JSON.parse(Buffer.from(payload).toString('utf8')) as LocalActivityMarkerData;
}

/**
 * The activities in a workflow history, in history order: a regular one where it was scheduled
 * (with the attempt and worker of its last start), a local one where its marker was recorded (with
 * the attempt it ended on and the worker that completed that workflow task). A local activity whose
 * retries waited on a timer has one marker per wait, so it is listed once per marker.
 */
export function stepActivitiesIn(events: readonly HistoryEvent[]): StepActivity[] {
  const steps: StepActivity[] = [];
  const regularByScheduledId = new Map<string, StepActivity>();
  let workflowTaskIdentity = '';
  for (const event of events) {
    const completed = event.workflowTaskCompletedEventAttributes;
    if (completed) workflowTaskIdentity = completed.identity ?? '';
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const step: StepActivity = { activity: scheduled.activityType?.name ?? '', attempt: 0, identity: '', local: false };
      regularByScheduledId.set(String(event.eventId), step);
      steps.push(step);
    }
    const started = event.activityTaskStartedEventAttributes;
    const startedStep = started ? regularByScheduledId.get(String(started.scheduledEventId)) : undefined;
    if (started && startedStep) {
      startedStep.attempt = started.attempt ?? 0;
      startedStep.identity = started.identity ?? '';
    }
    const marker = markerDataOf(event);
    if (marker) steps.push({ activity: marker.activityType ?? marker.activity_type ?? '', attempt: marker.attempt ?? 0, identity: workflowTaskIdentity, local: true });
  }
  return steps;
}

/** The activities a workflow ran so far (see `stepActivitiesIn`). */
export async function stepActivitiesOf(client: Client, workflowId: string): Promise<StepActivity[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return stepActivitiesIn(history.events ?? []);
}

/** The names of the activities a workflow ran so far, regular or local, in order. */
export async function activityNamesOf(client: Client, workflowId: string): Promise<string[]> {
  return (await stepActivitiesOf(client, workflowId)).map(({ activity }) => activity);
}
