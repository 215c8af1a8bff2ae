// A project's guardian policy (`PUT /projects/{id}/guardian`): whether the
// guardian looks at the project's task runs, the alignment thresholds
// below which it steers, pauses or cancels, and whether a pause or cancel
// is applied at once or put to a person. Each field left as "inherit"
// falls back to the agent's, then the configured policy. A refusal from
// the API is shown next to the field it names.

import { useState } from 'preact/hooks';
import { ApiError, request } from '../api/client';
import type { GuardianPolicy, Project } from '../api/types';
import { toast } from '../components/ui';

const THRESHOLDS = [
  ['steer_below', 'Steer below'],
  ['pause_below', 'Pause below'],
  ['cancel_below', 'Cancel below'],
] as const;

type Threshold = (typeof THRESHOLDS)[number][0];
type Form = Record<Threshold, string> & { guardian: string; auto_pause: string; auto_cancel: string };

/** A tri-state as a select's value: `inherit`, `true` or `false`. */
const choice = (value: boolean | undefined) => (value === undefined ? 'inherit' : String(value));
const fromChoice = (value: string) => (value === 'inherit' ? undefined : value === 'true');

function formOf(policy: GuardianPolicy): Form {
  const threshold = (value: number | undefined) => (value === undefined ? '' : String(value));
  return {
    guardian: choice(policy.guardian),
    steer_below: threshold(policy.steer_below),
    pause_below: threshold(policy.pause_below),
    cancel_below: threshold(policy.cancel_below),
    auto_pause: choice(policy.auto_pause),
    auto_cancel: choice(policy.auto_cancel),
  };
}

/** The body the API takes: fields left to inherit are left out. */
function policyOf(form: Form): GuardianPolicy {
  const threshold = (text: string) => (text.trim() === '' ? undefined : Number(text));
  return {
    guardian: fromChoice(form.guardian),
    steer_below: threshold(form.steer_below),
    pause_below: threshold(form.pause_below),
    cancel_below: threshold(form.cancel_below),
    auto_pause: fromChoice(form.auto_pause),
    auto_cancel: fromChoice(form.auto_cancel),
  };
}

/** The project's policy in one line, for its card. */
export function guardianSummary(policy: GuardianPolicy): string {
  const parts: string[] = [];
  if (policy.guardian !== undefined) parts.push(policy.guardian ? 'on' : 'off');
  if (policy.steer_below !== undefined) {
    parts.push(`steers below ${policy.steer_below}, pauses below ${policy.pause_below}, cancels below ${policy.cancel_below}`);
  }
  if (policy.auto_pause !== undefined) parts.push(policy.auto_pause ? 'pauses at once' : 'pauses proposed to a person');
  if (policy.auto_cancel !== undefined) parts.push(policy.auto_cancel ? 'cancels at once' : 'cancels approved by a person');
  return parts.length ? parts.join(' · ') : "the agent's or the configured policy";
}

export function GuardianPolicyForm({ project, onSaved }: { project: Project; onSaved: () => void }) {
  const [form, setForm] = useState<Form>(() => formOf(project.guardian));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof Form) => (event: Event) => {
    setForm({ ...form, [field]: (event.currentTarget as HTMLInputElement).value });
    if (error?.field?.endsWith(field)) setError(null);
  };
  const save = async (policy: GuardianPolicy, done: string) => {
    setBusy(true);
    setError(null);
    try {
      const saved = await request<Project>('PUT', `/projects/${project.id}/guardian`, policy);
      setForm(formOf(saved.guardian));
      toast(`${project.title}: ${done}`);
      onSaved();
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const fieldId = (field: string) => `guardian-${project.id}-${field}`;
  // The store names a refused field within the policy (`guardian.pause_below`).
  const refused = error?.field?.replace(/^guardian\./, '') ?? null;
  // The API names the field it refuses: its message goes under that field,
  // outside the label so the field's name stays short.
  const problem = (field: string) =>
    refused === field ? (
      <span class="field-error" role="alert" id={`${fieldId(field)}-error`}>
        {error?.message}
      </span>
    ) : null;
  const invalid = (field: string) => ({
    id: fieldId(field),
    name: field,
    'aria-invalid': refused === field,
    'aria-describedby': refused === field ? `${fieldId(field)}-error` : undefined,
  });
  const choiceField = (field: 'guardian' | 'auto_pause' | 'auto_cancel', label: string, options: [string, string][]) => (
    <div class="field">
      <label for={fieldId(field)}>{label}</label>
      <select value={form[field]} onChange={set(field)} {...invalid(field)}>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
      {problem(field)}
    </div>
  );
  const known = ['guardian', 'auto_pause', 'auto_cancel', ...THRESHOLDS.map(([field]) => field)];
  return (
    <details>
      <summary>Guardian policy: {guardianSummary(project.guardian)}</summary>
      <form
        class="form"
        aria-label={`guardian policy of ${project.title}`}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void save(policyOf(form), 'guardian policy saved');
        }}
      >
        <p class="hint">
          For the runs of this project's tasks. A field left to inherit takes the agent's policy, then the one configured in <code>[oversight]</code>.
        </p>
        <div class="form-row">
          {choiceField('guardian', 'The guardian looks at its runs', [['inherit', 'inherit'], ['true', 'yes'], ['false', 'no']])}
          {choiceField('auto_pause', 'A pause it decides', [['inherit', 'inherit'], ['true', 'is applied at once'], ['false', 'is proposed to a person']])}
          {choiceField('auto_cancel', 'A cancel it decides', [['inherit', 'inherit'], ['true', 'is applied at once'], ['false', "waits for a person's approval"]])}
        </div>
        <fieldset>
          <legend>Alignment thresholds, 0 to 1 (all three or none; cancel ≤ pause ≤ steer)</legend>
          <div class="form-row">
            {THRESHOLDS.map(([field, label]) => (
              <div class="field" key={field}>
                <label for={fieldId(field)}>{label}</label>
                <input type="number" inputMode="decimal" min="0" max="1" step="0.05" placeholder="inherit" value={form[field]} onInput={set(field)} {...invalid(field)} />
                {problem(field)}
              </div>
            ))}
          </div>
        </fieldset>
        {error && !known.includes(refused ?? '') && (
          <p class="error-text" role="alert">
            {error.message}
          </p>
        )}
        <div class="button-row">
          <button type="submit" class="primary" disabled={busy}>
            Save policy
          </button>
          <button type="button" disabled={busy} onClick={() => void save({}, 'guardian policy cleared; it inherits')}>
            Inherit everything
          </button>
        </div>
      </form>
    </details>
  );
}
