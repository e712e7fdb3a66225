"""The pages of the web form, rendered on the server from what the desk answered.

Pure functions: the desk's reply (a `FormGuide`, texts) and the page's frame (`Frame`) in,
HTML out. Every value from a customer or the desk passes through `markup.html`, which escapes it.
The pages work without JavaScript: plain forms with labels, native controls in document order
(so the keyboard reaches everything), one column that fits a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.channels.web.markup import Markup, html, join, text_block
from bot.channels.web.texts import t
from bot.intake.form_reply import FormGuide, FormItem

__all__ = [
    "Frame",
    "code_page",
    "guided_page",
    "message_page",
    "start_page",
    "status_page",
]

_PROSE = ("description", "steps")  # told in several lines: a text area


@dataclass(frozen=True)
class Frame:
    """What every page needs: its language, where the form lives, the session's CSRF token."""

    lang: str
    prefix: str  # "" or "/support"
    csrf: str
    path: str = "/"  # the page's own path under the prefix (for the language switch)

    def url(self, path: str) -> str:
        return f"{self.prefix}{path}"


def _layout(frame: Frame, title: str, body: Markup, *, refresh: int | None = None) -> Markup:
    other = "en" if frame.lang == "ru" else "ru"
    meta = html('<meta http-equiv="refresh" content="{s}">', s=refresh) if refresh else Markup()
    return html(
        """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<a class="skip" href="#main">{skip}</a>
<header><p class="company">{company}</p>
<a class="lang" href="{switch}" hreflang="{other}" lang="{other}">{other_name}</a></header>
<main id="main">
<h1>{title}</h1>
{body}
</main>
<footer>
<form method="post" action="{forget_url}">
<input type="hidden" name="csrf" value="{csrf}">
<button type="submit" class="link">{forget}</button>
</form>
<a href="{privacy_url}">{privacy}</a>
</footer>
</body>
</html>
""",
        lang=frame.lang,
        meta=meta,
        title=title,
        css=frame.url("/static/form.css"),
        skip=t("skip", frame.lang),
        company=t("company", frame.lang),
        switch=f"{frame.url(frame.path)}?lang={other}",
        other=other,
        other_name=t("other_lang", frame.lang),
        body=body,
        forget_url=frame.url("/forget"),
        csrf=frame.csrf,
        forget=t("forget", frame.lang),
        privacy_url=frame.url("/privacy"),
        privacy=t("privacy", frame.lang),
    )


def _csrf(frame: Frame) -> Markup:
    return html('<input type="hidden" name="csrf" value="{v}">', v=frame.csrf)


def _files_input(frame: Frame, label_key: str) -> Markup:
    return html(
        """<p><label for="files">{label}</label>
<input id="files" name="files" type="file" multiple
 accept="image/png,image/jpeg,image/gif,image/bmp" aria-describedby="files-hint">
<small id="files-hint">{hint}</small></p>
""",
        label=t(label_key, frame.lang),
        hint=t("files_hint", frame.lang),
    )


def _alert(lines: Sequence[str], head: str = "") -> Markup:
    if not lines:
        return Markup()
    heading = html("<h2>{h}</h2>", h=head) if head else Markup()
    return html(
        '<div class="notes" role="alert">{heading}{body}</div>\n',
        heading=heading,
        body=join(text_block(line) for line in lines),
    )


def start_page(
    frame: Frame,
    *,
    consent_text: str | None,
    description: str = "",
    errors: Sequence[str] = (),
) -> Markup:
    """Page 1: one text area for everything, screenshots, consent when it is still needed."""
    lang = frame.lang
    consent = Markup()
    if consent_text:
        consent = html(
            """<div class="consent"><details><summary>{summary}</summary>{text}</details>
<p><input id="consent" name="consent" type="checkbox" value="yes" required>
<label for="consent">{box}</label></p></div>
""",
            summary=t("privacy", lang),
            text=text_block(consent_text),
            box=t("consent_box", lang),
        )
    body = html(
        """<p class="lead">{lead}</p>
{errors}<form method="post" action="{action}" enctype="multipart/form-data">
{csrf}<p><label for="description">{label}</label>
<textarea id="description" name="description" rows="10" required
 aria-describedby="description-hint">{description}</textarea>
<small id="description-hint">{hint}</small></p>
{files}<div class="hp" aria-hidden="true"><label for="website">{honeypot}</label>
<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
{consent}<p><button type="submit">{submit}</button></p>
</form>
""",
        lead=t("lead", lang),
        errors=_alert(errors),
        action=frame.url("/"),
        csrf=_csrf(frame),
        label=t("description", lang),
        description=description,
        hint=t("description_hint", lang),
        files=_files_input(frame, "files"),
        honeypot=t("honeypot", lang),
        consent=consent,
        submit=t("submit", lang),
    )
    return _layout(frame, t("title", lang), body)


def _control(item: FormItem, *, value: str, required: bool = False) -> Markup:
    """A labelled input for one form line; prose gets a text area."""
    name = f"f_{item.key}"
    hint_id = f"{name}-hint"
    described = [hint_id] if item.hint else []
    problem = Markup()
    if item.problem:
        described.append(f"{name}-problem")
        problem = html('<strong id="{id}-problem" class="problem">{p}</strong>', id=name,
                       p=item.problem)  # fmt: skip
    hint = html('<small id="{id}">{h}</small>', id=hint_id, h=item.hint) if item.hint else Markup()
    attrs = html(
        'id="{name}" name="{name}"{req}{desc}',
        name=name,
        req=Markup(" required") if required else Markup(),
        desc=html(' aria-describedby="{d}"', d=" ".join(described)) if described else Markup(),
    )
    if item.key in _PROSE:
        field = html('<textarea {attrs} rows="4">{v}</textarea>', attrs=attrs, v=value)
    else:
        # Plain text inputs: the desk's validators say what is wrong and why, in the page's
        # words, rather than a browser refusing to send; the keyboard still fits the value.
        mode = {"contact_email": "email", "site_url": "url"}.get(item.key, "text")
        field = html('<input {attrs} type="text" inputmode="{m}" value="{v}">', attrs=attrs,
                     m=mode, v=value)  # fmt: skip
    invalid = Markup(' class="invalid"') if item.problem else Markup()
    return html(
        '<p{invalid}><label for="{name}">{label}</label>\n{field}\n{problem}{hint}</p>\n',
        invalid=invalid, name=name, label=item.label, field=field, problem=problem, hint=hint,
    )  # fmt: skip


def _notice(guide: FormGuide, lang: str) -> Markup:
    """The category, scope and critical notice (section 3, 2.2)."""
    c = guide.classification
    if c is None:
        return Markup()
    lines = [t("notice_category", lang, name=guide.category_name, clause=c.clause)]
    if guide.scope_note:
        lines.append(guide.scope_note)
    if c.critical:
        lines.append(t("notice_critical", lang))
    return html(
        '<section class="notice"><h2>{h}</h2>{body}</section>\n',
        h=t("notice_head", lang),
        body=join(html("<p>{line}</p>", line=line) for line in lines),
    )


def guided_page(frame: Frame, guide: FormGuide) -> Markup:
    """What was understood (editable), exactly what is missing or refused, the notice, the
    optional details, more screenshots, and Send."""
    lang = frame.lang
    understood = join(
        html('<input type="hidden" name="o_{k}" value="{v}">', k=i.key, v=i.value)
        + _control(i, value=i.value)
        for i in guide.understood
    )
    missing = join(_control(i, value=i.value) for i in guide.missing)
    if guide.critical is not None:
        missing += html(
            """<fieldset><legend>{label}</legend><small>{hint}</small>
<p><input type="radio" id="critical-yes" name="critical" value="yes">
<label for="critical-yes">{yes}</label></p>
<p><input type="radio" id="critical-no" name="critical" value="no">
<label for="critical-no">{no}</label></p>
</fieldset>
""",
            label=guide.critical.label,
            hint=guide.critical.hint,
            yes=t("critical_yes", lang),
            no=t("critical_no", lang),
        )
    if guide.categories:
        options = join(html('<option value="{v}">{n}</option>', v=v, n=n) for v, n in
                       guide.categories)  # fmt: skip
        missing += html(
            """<p><label for="category">{label}</label>
<select id="category" name="category"><option value=""></option>{options}</select></p>
""",
            label=t("category_label", lang),
            options=options,
        )
    details = Markup()
    if guide.details:
        details = html(
            "<details><summary>{h}</summary>{items}</details>\n",
            h=t("details_head", lang),
            items=join(
                html(
                    '<p><label for="d_{id}">{q}</label>\n'
                    '<textarea id="d_{id}" name="d_{id}" rows="2"></textarea></p>\n',
                    id=i.key,
                    q=i.hint,
                )  # fmt: skip
                for i in guide.details
            ),
        )
    files = Markup()
    if guide.files:
        names = ", ".join(guide.files)
        files = html("<p>{h}: {names}</p>\n", h=t("files_kept", lang), names=names)
    sections = html(
        """{said}{notes}{notice}
<form method="post" action="{action}" enctype="multipart/form-data">
{csrf}<section id="missing"><h2>{missing_head}</h2>
{missing}</section>
<section id="understood"><h2>{understood_head}</h2>
{understood}{files}</section>
{details}{upload}<div class="hp" aria-hidden="true"><label for="website">{honeypot}</label>
<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">{submit}</button></p>
</form>
""",
        said=_alert(guide.notices),
        notes=_alert(guide.notes, t("notes_head", lang)),
        notice=_notice(guide, lang),
        action=frame.url("/more"),
        csrf=_csrf(frame),
        missing_head=t("missing_head", lang),
        missing=missing,
        understood_head=t("understood_head", lang),
        understood=understood,
        files=files,
        details=details,
        upload=_files_input(frame, "more_files"),
        honeypot=t("honeypot", lang),
        submit=t("submit", lang),
    )
    return _layout(frame, t("guided_head", lang), sections)


def _summary(guide: FormGuide, lang: str) -> Markup:
    rows = join(html("<dt>{l}</dt><dd>{v}</dd>", l=i.label, v=i.value) for i in guide.understood)
    if guide.files:
        rows += html("<dt>{l}</dt><dd>{v}</dd>", l=t("files_kept", lang), v=", ".join(guide.files))
    return html("<section><h2>{h}</h2><dl>{rows}</dl></section>\n",
                h=t("summary_head", lang), rows=rows)  # fmt: skip


def code_page(frame: Frame, said: Sequence[str], guide: FormGuide | None) -> Markup:
    """The contact address confirms a one-time code before the ticket is filed."""
    lang = frame.lang
    body = html(
        """{said}<form method="post" action="{action}">
{csrf}<p><label for="code">{label}</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
 pattern="[0-9 \\-]{{6,7}}" maxlength="7" required autofocus></p>
<p><button type="submit">{submit}</button></p>
</form>
<form method="post" action="{action}">
{csrf}<input type="hidden" name="resend" value="1">
<p><button type="submit" class="secondary">{resend}</button></p>
</form>
{summary}""",
        said=_alert(said),
        action=frame.url("/code"),
        csrf=_csrf(frame),
        label=t("code_label", lang),
        submit=t("code_submit", lang),
        resend=t("resend", lang),
        summary=_summary(guide, lang) if guide is not None else Markup(),
    )
    return _layout(frame, t("code_head", lang), body)


def status_page(
    frame: Frame,
    *,
    ticket_id: str,
    status_text: str,
    said: str,
    notices: Sequence[str],
    refresh: int | None,
) -> Markup:
    """A filed ticket: its number, its status (official once support's server accepted it,
    4.1, 4.5) and what to expect (2.1–2.5); refreshes itself while it waits for the server."""
    lang = frame.lang
    body = html(
        """<p class="status" role="status"><strong>{label}:</strong> {status}</p>
{notices}<section class="said">{said}</section>
<p><small>{link}</small></p>
<p><a href="{self_url}">{refresh}</a> · <a href="{new_url}">{new}</a></p>
""",
        label=t("status_label", lang),
        status=status_text,
        notices=_alert(notices),
        said=text_block(said),
        link=t("status_link", lang),
        self_url=frame.url(frame.path),
        refresh=t("status_refresh", lang),
        new_url=frame.url("/"),
        new=t("new_request", lang),
    )
    return _layout(frame, t("status_head", lang, id=ticket_id), body, refresh=refresh)


def message_page(frame: Frame, title: str, text: str) -> Markup:
    body = html('{text}<p><a href="{url}">{new}</a></p>\n', text=text_block(text),
                url=frame.url("/"), new=t("new_request", frame.lang))  # fmt: skip
    return _layout(frame, title, body)
