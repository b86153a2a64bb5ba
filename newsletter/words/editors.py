"""The words of the editors' pages, in French and English (``settings.language``), as
:mod:`newsletter.words.readers` holds the readers'.

Templates get the table of their language as ``t``; code refers to a message by its key
and :func:`say` turns it into words, filling its ``{placeholders}``. A refusal is raised as
:class:`Refusal` (an ``HTTPException`` carrying the key and the values) and worded by the
editors' error page. Both tables have the same keys and the same placeholders (a test holds
them to it). French typography: a no-break space (U+00A0) before ``:`` and a narrow one
(U+202F) before ``? ! ;`` and inside « ».

``date_format`` and ``datetime_format`` are ``strftime`` patterns; ``decimal_mark`` is the
character between a number's units and its decimals.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

from newsletter.words.edition import language_of

EDITOR_PAGES: dict[str, dict[str, str]] = {
    "fr": {
        # navigation and shared words
        "newsroom": "Rédaction",
        "brand": "{title} · rédaction",
        "nav_editions": "Éditions",
        "nav_subscribers": "Abonnés",
        "nav_suppressions": "Liste de suppression",
        "sign_out": "Se déconnecter",
        "date_format": "%d/%m/%Y",
        "datetime_format": "%d/%m/%Y %H:%M",
        "decimal_mark": ",",
        "separator": "\u202f; ",
        "address": "Adresse",
        # errors
        "error_title": "Erreur",
        "error": "Une erreur est survenue.",
        "not_found": "Cette page n’existe pas.",
        "method_not_allowed": "Méthode non permise.",
        "too_large": "Requête trop grande.",
        "nothing_changed": "Rien n’a été modifié.",
        "go_back": "Revenir à la page précédente",
        "or": "ou",
        "back_to_editions": "aux éditions",
        "csrf_refused": (
            "Ce formulaire a expiré ou ne vient pas de cette page\u00a0: rechargez la page et "
            "recommencez (les cookies doivent être permis)."
        ),
        "signed_out": "Session absente ou expirée\u00a0: connectez-vous de nouveau.",
        "bad_form": "Ce formulaire n’a pas pu être lu.",
        "field_not_text": "Le champ «\u202f{name}\u202f» doit être du texte.",
        "field_too_long": (
            "Le champ «\u202f{name}\u202f» est trop long ({limit} caractères au plus)."
        ),
        "bad_date": "Cette date n’est pas une date valide (AAAA-MM-JJ).",
        # sign-in
        "login_title": "Connexion",
        "login_heading": "Connexion de la rédaction",
        "login_expired": "Votre session a expiré\u00a0: connectez-vous de nouveau.",
        "login_no_account": (
            "Aucun compte n’est configuré. Créez une empreinte avec {command} et ajoutez-la à "
            "{variable} (ou à la table {table} du fichier de configuration)."
        ),
        "login_email": "Adresse e-mail",
        "login_password": "Mot de passe",
        "login_button": "Se connecter",
        "login_too_many": "Trop de tentatives\u00a0: réessayez dans un quart d’heure.",
        "login_wrong": "Adresse ou mot de passe incorrect.",
        # editions list
        "editions_title": "Éditions",
        "compose_label": "Composer le brouillon du",
        "compose_button": "Composer",
        "compose_note": (
            "Recomposer garde vos décisions\u202f; une édition partie ne change plus."
        ),
        "column_date": "Date",
        "column_status": "État",
        "column_subject": "Objet",
        "column_articles": "Articles",
        "column_reading": "Lecture",
        "column_approval": "Validation",
        "held_badge": "retenue",
        "approved_by_short": "approuvée par {editor}",
        "editions_empty": "Aucune édition pour l’instant\u00a0: composez celle d’aujourd’hui.",
        "status_draft": "brouillon",
        "status_sending": "en cours d’envoi",
        "status_paused": "envoi en pause",
        "status_sent": "envoyée",
        # an edition's page
        "edition_title": "Édition du {date}",
        "subject_label": "Objet\u00a0:",
        "preheader_label": "Pré-en-tête\u00a0:",
        "reading_time": "Temps de lecture",
        "reading_of_budget": "{reading} sur un budget de {budget}",
        "over_budget": "au-delà du budget",
        "html_size": "Taille du HTML",
        "kilobytes": "{size} Ko",
        "size_of": "sur {limit}",
        "clip_near": "proche de la limite",
        "clip_near_rest": "où Gmail coupe le message",
        "clip_over": "Gmail coupera ce message",
        "clip_over_rest": "(«\u202fMessage tronqué\u202f»)",
        "clip_ok": "(Gmail coupe au-delà)",
        "approval": "Validation",
        "approved_by": "Approuvée par {editor} le {when}",
        "not_approved": "Pas encore approuvée",
        "send_held": "envoi retenu",
        "approve_button": "Approuver l’envoi",
        "release_button": "Libérer l’envoi",
        "hold_button": "Retenir l’envoi",
        "read_only": "Cette édition est partie\u00a0: elle ne change plus (lecture seule).",
        "preview": "Aperçu",
        "desktop": "Ordinateur (640 px)",
        "desktop_preview": "Aperçu sur ordinateur",
        "phone": "Téléphone (375 px)",
        "phone_preview": "Aperçu sur téléphone",
        "articles_count": "Articles ({count})",
        "column_article": "Article",
        "column_section": "Rubrique",
        "column_why": "Pourquoi (score)",
        "column_decisions": "Décisions",
        "pinned_badge": "épinglé",
        "also": "aussi\u00a0:",
        "seconds": "{seconds} s",
        "move_up": "Monter",
        "move_down": "Descendre",
        "pin": "Épingler",
        "unpin": "Désépingler",
        "exclude": "Exclure",
        "include": "Réintégrer",
        "score_note": (
            "Le score additionne les signaux puis les multiplie par le poids de la rubrique. "
            "Un article épinglé entre quel que soit son score\u202f; le premier épinglé fait "
            "la une."
        ),
        "no_articles": "Aucun article dans la fenêtre de cette édition.",
        "excluded": "Exclus",
        "left_out": "Autres articles de la fenêtre ({count}), hors de l’édition",
        "variants": "Éditions personnalisées",
        "variant_line": "{topics}\u00a0: {count} articles, {reading}",
        "texts_heading": "Objet et pré-en-tête",
        "subject_field": "Objet (vide\u00a0: celui de la une)",
        "preheader_field": "Pré-en-tête (vide\u00a0: les titres suivants)",
        "save": "Enregistrer",
        "test_heading": "Envoyer un test",
        "test_button": "Envoyer le test",
        "test_note": (
            "L’objet commence par «\u202f{prefix}\u202f»\u202f; aucun abonné n’est compté "
            "comme servi."
        ),
        "text_version": "Version texte",
        "score_featured": "mis en avant par la source",
        "score_coverage": "couverture (autres sources)",
        "score_prominence": "place dans le flux",
        "score_recency": "fraîcheur",
        "score_category_weight": "poids de la rubrique (×)",
        # an edition's flash messages and refusals
        "no_edition": "Pas d’édition pour le {date}.",
        "date_range": "Choisissez une date entre {first} et {last}.",
        "locked": "Cette édition est déjà partie\u00a0: elle ne change plus.",
        "locked_pause": "Cette édition est déjà partie\u00a0: mettez son envoi en pause.",
        "composed": "Brouillon composé\u00a0: {count} articles.",
        "done_pin": "Article épinglé.",
        "done_unpin": "Article désépinglé.",
        "done_exclude": "Article exclu de l’édition.",
        "done_include": "Exclusion annulée.",
        "done_up": "Article remonté.",
        "done_down": "Article descendu.",
        "unknown_action": "Action inconnue.",
        "texts_saved": "Objet et pré-en-tête enregistrés.",
        "test_address_missing": "Indiquez l’adresse qui doit recevoir le test.",
        "test_address_invalid": "«\u202f{address}\u202f» n’est pas une adresse e-mail valide.",
        "subject_too_long": "L’objet doit avoir au plus {limit} caractères.",
        "preheader_too_long": "Le pré-en-tête doit avoir au plus {limit} caractères.",
        "subject_one_line": "L’objet doit tenir sur une ligne.",
        "preheader_one_line": "Le pré-en-tête doit tenir sur une ligne.",
        "test_sent": "Test envoyé à {address} ({answer}).",
        "approved": "Édition approuvée.",
        "already_approved": "Cette édition était déjà approuvée.",
        "bad_held": "Valeur attendue\u00a0: held=1 ou held=0.",
        "held": "Envoi retenu.",
        "released": "Envoi libéré.",
        # subscribers
        "subscribers_title": "Abonnés",
        "subscribers_heading": "Abonnés ({total})",
        "search_heading": "Rechercher une adresse",
        "search_placeholder": "partie de l’adresse",
        "search_button": "Rechercher",
        "column_name": "Nom",
        "column_topics": "Rubriques",
        "column_created": "Inscrit le",
        "search_first": "Les {shown} premières adresses seulement\u00a0: précisez la recherche.",
        "search_none": "Aucune adresse ne contient «\u202f{query}\u202f».",
        "import_heading": "Importer un fichier CSV",
        "import_report": (
            "{added} ajoutés, {updated} mis à jour, {unchanged} inchangés, {rejected} refusés"
        ),
        "import_duplicates": ", {count} lignes répétées fusionnées",
        "import_kept_inactive": ", {count} laissés désabonnés ou en échec",
        "import_button": "Importer",
        "import_help": (
            "Première ligne\u00a0: {email} puis, au choix, {name}, {topics}, {timezone} "
            "(virgules, points-virgules ou tabulations\u202f; UTF-8, UTF-16 ou Windows-1252\u202f; "
            "{max_mb} Mo au plus). "
            "Les lignes invalides sont signalées avec leur numéro, les autres importées. "
            "Un abonné déjà inscrit garde ses rubriques, son fuseau, sa fréquence, son format "
            "et son état (c’est le lecteur qui les choisit)\u202f: seul un nom manquant est "
            "complété. Une adresse désabonnée n’est jamais réactivée."
        ),
        "export_heading": "Exporter",
        "export_link": "Télécharger tous les abonnés (CSV)",
        "audience_pending": "en attente de confirmation",
        "audience_active": "actifs",
        "audience_unsubscribed": "désabonnés",
        "audience_bounced": "adresses en échec",
        "audience_complained": "plaintes (spam)",
        "subscriber_pending": "en attente",
        "subscriber_active": "actif",
        "subscriber_unsubscribed": "désabonné",
        "subscriber_bounced": "en échec",
        "subscriber_complained": "plainte (spam)",
        "search_too_long": "La recherche est trop longue ({limit} caractères au plus).",
        "search_control": "La recherche contient un caractère de contrôle.",
        "import_no_file": "Choisissez un fichier CSV à importer.",
        "import_too_large": "Fichier trop grand ({mb} Mo au plus).",
        "import_refused": "Fichier refusé\u00a0: {reason}",
        "import_unreadable": "Fichier refusé\u00a0: ce n’est pas un CSV lisible ({reason}).",
        # suppression list
        "suppressions_title": "Liste de suppression",
        "suppressions_note": (
            "Ces adresses ne reçoivent plus rien, quel que soit leur état d’abonné (échec "
            "définitif, plainte, décision manuelle)."
        ),
        "column_reason": "Raison",
        "column_detail": "Détail",
        "column_since": "Depuis",
        "suppressions_first": "Les {shown} plus récentes seulement.",
        "suppressions_empty": "La liste est vide.",
    },
    "en": {
        "newsroom": "Newsroom",
        "brand": "{title} · newsroom",
        "nav_editions": "Editions",
        "nav_subscribers": "Subscribers",
        "nav_suppressions": "Suppression list",
        "sign_out": "Sign out",
        "date_format": "%Y-%m-%d",
        "datetime_format": "%Y-%m-%d %H:%M",
        "decimal_mark": ".",
        "separator": "; ",
        "address": "Address",
        "error_title": "Error",
        "error": "Something went wrong.",
        "not_found": "This page does not exist.",
        "method_not_allowed": "Method not allowed.",
        "too_large": "Request too large.",
        "nothing_changed": "Nothing was changed.",
        "go_back": "Go back to the previous page",
        "or": "or",
        "back_to_editions": "to the editions",
        "csrf_refused": (
            "This form has expired or does not come from this page: reload the page and try "
            "again (cookies must be allowed)."
        ),
        "signed_out": "No session, or it has expired: please sign in again.",
        "bad_form": "This form could not be read.",
        "field_not_text": "The field “{name}” must be text.",
        "field_too_long": "The field “{name}” is too long ({limit} characters at most).",
        "bad_date": "This is not a valid date (YYYY-MM-DD).",
        "login_title": "Sign in",
        "login_heading": "Newsroom sign-in",
        "login_expired": "Your session has expired: please sign in again.",
        "login_no_account": (
            "No account is configured. Make a hash with {command} and add it to {variable} "
            "(or to the {table} table of the configuration file)."
        ),
        "login_email": "Email address",
        "login_password": "Password",
        "login_button": "Sign in",
        "login_too_many": "Too many attempts: please try again in a quarter of an hour.",
        "login_wrong": "Wrong address or password.",
        "editions_title": "Editions",
        "compose_label": "Compose the draft of",
        "compose_button": "Compose",
        "compose_note": (
            "Composing again keeps your decisions; an edition that went out no longer changes."
        ),
        "column_date": "Date",
        "column_status": "Status",
        "column_subject": "Subject",
        "column_articles": "Articles",
        "column_reading": "Reading",
        "column_approval": "Approval",
        "held_badge": "held",
        "approved_by_short": "approved by {editor}",
        "editions_empty": "No edition yet: compose today's.",
        "status_draft": "draft",
        "status_sending": "sending",
        "status_paused": "send paused",
        "status_sent": "sent",
        "edition_title": "Edition of {date}",
        "subject_label": "Subject:",
        "preheader_label": "Preheader:",
        "reading_time": "Reading time",
        "reading_of_budget": "{reading} of a {budget} budget",
        "over_budget": "over budget",
        "html_size": "HTML size",
        "kilobytes": "{size} kB",
        "size_of": "of {limit}",
        "clip_near": "close to the limit",
        "clip_near_rest": "where Gmail clips the message",
        "clip_over": "Gmail will clip this message",
        "clip_over_rest": "(“[Message clipped]”)",
        "clip_ok": "(Gmail clips beyond)",
        "approval": "Approval",
        "approved_by": "Approved by {editor} on {when}",
        "not_approved": "Not approved yet",
        "send_held": "send held",
        "approve_button": "Approve the send",
        "release_button": "Release the send",
        "hold_button": "Hold the send",
        "read_only": "This edition has gone out: it no longer changes (read-only).",
        "preview": "Preview",
        "desktop": "Desktop (640 px)",
        "desktop_preview": "Desktop preview",
        "phone": "Phone (375 px)",
        "phone_preview": "Phone preview",
        "articles_count": "Articles ({count})",
        "column_article": "Article",
        "column_section": "Section",
        "column_why": "Why (score)",
        "column_decisions": "Decisions",
        "pinned_badge": "pinned",
        "also": "also:",
        "seconds": "{seconds} s",
        "move_up": "Move up",
        "move_down": "Move down",
        "pin": "Pin",
        "unpin": "Unpin",
        "exclude": "Exclude",
        "include": "Put back",
        "score_note": (
            "The score adds the signals up, then multiplies them by the section's weight. A "
            "pinned article gets in whatever its score; the first pinned one leads."
        ),
        "no_articles": "No article in this edition's window.",
        "excluded": "Excluded",
        "left_out": "Other articles of the window ({count}), not in the edition",
        "variants": "Personalised editions",
        "variant_line": "{topics}: {count} articles, {reading}",
        "texts_heading": "Subject and preheader",
        "subject_field": "Subject (empty: the lead story's)",
        "preheader_field": "Preheader (empty: the next headlines)",
        "save": "Save",
        "test_heading": "Send a test",
        "test_button": "Send the test",
        "test_note": "The subject starts with “{prefix}”; no subscriber is counted as served.",
        "text_version": "Text version",
        "score_featured": "featured by the source",
        "score_coverage": "coverage (other sources)",
        "score_prominence": "place in the feed",
        "score_recency": "recency",
        "score_category_weight": "section weight (×)",
        "no_edition": "No edition for {date}.",
        "date_range": "Choose a date between {first} and {last}.",
        "locked": "This edition has already gone out: it no longer changes.",
        "locked_pause": "This edition has already gone out: pause its send instead.",
        "composed": "Draft composed: {count} articles.",
        "done_pin": "Article pinned.",
        "done_unpin": "Article unpinned.",
        "done_exclude": "Article excluded from the edition.",
        "done_include": "Exclusion undone.",
        "done_up": "Article moved up.",
        "done_down": "Article moved down.",
        "unknown_action": "Unknown action.",
        "texts_saved": "Subject and preheader saved.",
        "test_address_missing": "Give the address that should receive the test.",
        "test_address_invalid": "“{address}” is not a valid email address.",
        "subject_too_long": "The subject must have at most {limit} characters.",
        "preheader_too_long": "The preheader must have at most {limit} characters.",
        "subject_one_line": "The subject must be on one line.",
        "preheader_one_line": "The preheader must be on one line.",
        "test_sent": "Test sent to {address} ({answer}).",
        "approved": "Edition approved.",
        "already_approved": "This edition was already approved.",
        "bad_held": "Expected value: held=1 or held=0.",
        "held": "Send held.",
        "released": "Send released.",
        "subscribers_title": "Subscribers",
        "subscribers_heading": "Subscribers ({total})",
        "search_heading": "Find an address",
        "search_placeholder": "part of the address",
        "search_button": "Search",
        "column_name": "Name",
        "column_topics": "Sections",
        "column_created": "Signed up",
        "search_first": "The first {shown} addresses only: narrow the search.",
        "search_none": "No address contains “{query}”.",
        "import_heading": "Import a CSV file",
        "import_report": (
            "{added} added, {updated} updated, {unchanged} unchanged, {rejected} rejected"
        ),
        "import_duplicates": ", {count} repeated lines merged",
        "import_kept_inactive": ", {count} left unsubscribed or bounced",
        "import_button": "Import",
        "import_help": (
            "First line: {email} then any of {name}, {topics}, {timezone} (commas, semicolons "
            "or tabs; UTF-8, UTF-16 or Windows-1252; {max_mb} MB at most). Invalid lines are "
            "reported with their number, the others imported. An existing subscriber keeps "
            "their topics, time zone, frequency, format and status (readers choose them): "
            "only a missing name is filled in. An unsubscribed address is never reactivated."
        ),
        "export_heading": "Export",
        "export_link": "Download every subscriber (CSV)",
        "audience_pending": "awaiting confirmation",
        "audience_active": "active",
        "audience_unsubscribed": "unsubscribed",
        "audience_bounced": "bounced addresses",
        "audience_complained": "complaints (spam)",
        "subscriber_pending": "pending",
        "subscriber_active": "active",
        "subscriber_unsubscribed": "unsubscribed",
        "subscriber_bounced": "bounced",
        "subscriber_complained": "complained (spam)",
        "search_too_long": "The search is too long ({limit} characters at most).",
        "search_control": "The search holds a control character.",
        "import_no_file": "Choose a CSV file to import.",
        "import_too_large": "File too large ({mb} MB at most).",
        "import_refused": "File refused: {reason}",
        "import_unreadable": "File refused: this is not a readable CSV ({reason}).",
        "suppressions_title": "Suppression list",
        "suppressions_note": (
            "These addresses receive nothing any more, whatever their subscriber status (hard "
            "bounce, complaint, manual decision)."
        ),
        "column_reason": "Reason",
        "column_detail": "Detail",
        "column_since": "Since",
        "suppressions_first": "The {shown} most recent only.",
        "suppressions_empty": "The list is empty.",
    },
}

#: The use case's English messages (``UsageError``, the render's warnings) with their key
#: phrases in French, longest first; ids, dates and provider answers stay as they are.
_FRENCH = (
    ("is not in the edition", "n’est pas dans l’édition"),
    ("is not pinned", "n’est pas épinglé"),
    ("is not excluded", "n’est pas exclu"),
    ("this item cannot move further", "cet article ne peut pas aller plus loin"),
    ("is not a candidate of", "n’est pas candidat à l’édition du"),
    ("(published outside its window or already in another edition)",
     "(publié hors de sa fenêtre ou déjà dans une autre édition)"),
    ("the test was not accepted", "le test n’a pas été accepté"),
    ("invalid address", "adresse invalide"),
    ("must be on one line", "doit tenir sur une ligne"),
    ("must have at most", "doit avoir au plus"),
    ("bytes; Gmail clips messages over about", "octets\u202f; Gmail coupe les messages au-delà"
     " d’environ"),
    ("the HTML is", "le HTML fait"),
    ("characters", "caractères"),
    ("bytes", "octets"),
    ("no edition for", "pas d’édition pour le"),
)  # fmt: skip


class Refusal(HTTPException):
    """An editors' page refusing a request: the HTTP ``status_code`` (4xx), the ``key`` of
    its message in :data:`EDITOR_PAGES` and the ``values`` of the message's placeholders.
    The editors' error page words it in the newsletter's language."""

    def __init__(self, status_code: int, key: str, **values: object) -> None:
        super().__init__(status_code, key)
        self.key, self.values = key, values


def editor_texts(language: str) -> dict[str, str]:
    """The editors' pages' words in ``language`` (a BCP 47 tag; anything but English gives
    French)."""
    return EDITOR_PAGES[language_of(language)]


def say(key: str, language: str, **values: object) -> str:
    """Message ``key`` in ``language`` with its placeholders filled from ``values``; a text
    that is not a key is returned as it is (Starlette's own words, say). Raises
    ``KeyError`` when a placeholder has no value."""
    text = editor_texts(language).get(key)
    return key if text is None else text.format(**values)


def usage_message(message: str, language: str) -> str:
    """An English message of the use case (``UsageError``, a render warning) for a page in
    ``language``: in French its key phrases are translated (ids, dates and provider
    answers stay as they are); the first letter is a capital in both."""
    if language_of(language) == "fr":
        for english, french in _FRENCH:
            message = message.replace(english, french)
    return message[:1].upper() + message[1:]
