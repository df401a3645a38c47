/**
 * A modal confirmation on the native <dialog>: focus moves into it, Esc cancels, focus returns to the
 * button that opened it — keyboard and screen-reader behaviour come from the browser.
 */
import { useEffect, useRef } from "preact/hooks";

export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
}

export function ConfirmDialog(props: {
  request: ConfirmRequest | null;
  onClose: (confirmed: boolean) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { request, onClose } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) dialog.showModal();
    if (!request && dialog.open) dialog.close();
  }, [request]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={() => request && onClose(false)}>
      {request && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            onClose(true);
          }}
        >
          <h2 id="confirm-title">{request.title}</h2>
          <p>{request.body}</p>
          <div class="buttons">
            <button type="button" onClick={() => onClose(false)}>
              Cancel
            </button>
            <button type="submit" class={request.danger ? "danger" : "primary"}>
              {request.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
