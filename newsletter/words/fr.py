"""Every word of the product in French, one key space (see :mod:`newsletter.words`).

French typography: a no-break space (U+00A0) before ``:`` and a narrow one (U+202F)
before ``? ! ;`` and inside « »."""

from __future__ import annotations

WORDS: dict[str, str] = {
    # The email's fixed words (templates: ``labels``).
    "edition.reading_time": "Temps de lecture",
    "edition.colon": " :",
    "edition.minutes": "min",
    "edition.lead": "À la une",
    "edition.view_online": "Voir dans le navigateur",
    "edition.read_more": "Lire l’article",
    "edition.preferences": "Gérer mes préférences",
    "edition.unsubscribe": "Se désabonner",
    "edition.why": (
        "Vous recevez cet e-mail à l’adresse {email} parce que vous êtes abonné·e à {title}."
    ),
    "edition.source": "Source",
    "edition.also": "Aussi",
    "edition.empty": "Pas d’article ce jour.",
    "edition.weekly_subject": "{title} — la semaine jusqu’au {start}",
    # Section titles by category slug.
    "section.politique": "Politique",
    "section.economie": "Économie",
    "section.societe": "Société",
    "section.monde": "Monde",
    "section.international": "International",
    "section.sport": "Sport",
    "section.culture": "Culture",
    "section.sciences": "Sciences",
    "section.tech": "Tech",
    "section.sante": "Santé",
    "section.environnement": "Environnement",
    "section.regions": "Régions",
    "section.autres": "Autres actualités",
    # Dates: ``date.long`` with the weekday, the day (``date.first_day`` for the 1st), the month
    # and the year; weekdays numbered as ISO 8601 (1 = Monday).
    "date.long": "{weekday} {day} {month} {year}",
    "date.first_day": "1er",
    "date.month.1": "janvier",
    "date.month.2": "février",
    "date.month.3": "mars",
    "date.month.4": "avril",
    "date.month.5": "mai",
    "date.month.6": "juin",
    "date.month.7": "juillet",
    "date.month.8": "août",
    "date.month.9": "septembre",
    "date.month.10": "octobre",
    "date.month.11": "novembre",
    "date.month.12": "décembre",
    "date.weekday.1": "lundi",
    "date.weekday.2": "mardi",
    "date.weekday.3": "mercredi",
    "date.weekday.4": "jeudi",
    "date.weekday.5": "vendredi",
    "date.weekday.6": "samedi",
    "date.weekday.7": "dimanche",
    # The readers' pages (templates: ``t``).
    "readers.nothing_done": "Rien n’est fait tant que vous n’avez pas cliqué sur ce bouton.",
    "readers.nothing_changed": (
        "Rien n’a été modifié. Si vous pensez qu’il s’agit d’une erreur, utilisez le lien "
        "du dernier e-mail reçu."
    ),
    "readers.error": "Une erreur est survenue.",
    "readers.link_invalid": "Ce lien n’est pas valide.",
    "readers.link_expired": "Ce lien a expiré.",
    "readers.confirm_expired": "Ce lien de confirmation a expiré\u00a0: abonnez-vous à nouveau.",
    "readers.subscriber_gone": "Cet abonnement n’existe plus.",
    "readers.edition_missing": "Cette édition n’existe pas.",
    "readers.edition_not_yet": "Cette édition n’existe pas (encore).",
    "readers.not_found": "Cette page n’existe pas.",
    "readers.method_not_allowed": "Méthode non permise.",
    "readers.too_large": "Requête trop grande.",
    "readers.send_the_form": "Envoyez le formulaire de la page.",
    "readers.bad_form": "Ce formulaire n’a pas pu être lu.",
    "readers.too_many": "Trop de demandes\u00a0: réessayez dans une heure.",
    "readers.email_invalid": "Cette adresse e-mail n’est pas valide.",
    "readers.signup_answer": (
        "Si cette adresse peut recevoir notre lettre, un e-mail de confirmation vient d’y "
        "être envoyé."
    ),
    "readers.archive_title": "Archives",
    "readers.archive_heading": "Les éditions de {title}",
    "readers.archive_empty": "Aucune édition pour l’instant.",
    "readers.confirm_title": "Confirmation",
    "readers.confirm_done": "Abonnement confirmé",
    "readers.confirm_done_text": "Vous recevrez {title} dès la prochaine édition.",
    "readers.confirm_heading": "Confirmer votre abonnement",
    "readers.confirm_button": "Confirmer mon abonnement",
    "readers.subscribe_title": "S’abonner",
    "readers.subscribe_check": "Vérifiez votre boîte",
    "readers.subscribe_check_note": (
        "Ouvrez le lien de cet e-mail pour confirmer\u00a0: sans confirmation, vous ne "
        "recevrez rien."
    ),
    "readers.subscribe_heading": "Recevez {title}",
    "readers.subscribe_tagline": (
        "L’essentiel de l’actualité, lisible en cinq minutes, chaque matin."
    ),
    "readers.subscribe_email": "Adresse e-mail",
    "readers.subscribe_name": "Prénom (facultatif)",
    "readers.subscribe_topics": "Les rubriques à lire en premier (facultatif)\u00a0:",
    "readers.subscribe_button": "M’abonner",
    "readers.unsubscribe_title": "Désabonnement",
    "readers.unsubscribe_done": "Vous êtes désabonné·e",
    "readers.unsubscribe_done_text": "L’adresse {email} ne recevra plus {title}.",
    "readers.unsubscribe_heading": "Se désabonner de {title}",
    "readers.unsubscribe_question": (
        "Confirmez-vous que l’adresse {email} ne doit plus recevoir {title}\u202f?"
    ),
    "readers.unsubscribe_button": "Me désabonner",
    "readers.preferences_title": "Préférences",
    "readers.preferences_heading": "Vos préférences",
    "readers.preferences_for": "Pour l’adresse {email}.",
    "readers.preferences_saved": "Vos préférences sont enregistrées",
    "readers.preferences_saved_note": "\u00a0: elles valent dès la prochaine édition.",
    "readers.preferences_topics": (
        "Les rubriques qui vous intéressent en premier (aucune\u00a0: l’édition de tous)"
    ),
    "readers.preferences_frequency": "Fréquence",
    "readers.frequency_daily": "Chaque jour",
    "readers.frequency_weekly": "Une fois par semaine, le",
    "readers.preferences_pause": "Pause",
    "readers.pause_until": "Reprendre l’envoi le",
    "readers.pause_help": "Laissez vide pour recevoir sans interruption.",
    "readers.paused_now": "En pause\u00a0: vous recevrez de nouveau la lettre à partir du {date}.",
    "readers.preferences_format": "Format",
    "readers.format_html": "HTML (mise en page, images)",
    "readers.format_text": "Texte seul",
    "readers.preferences_timezone": "Fuseau horaire de livraison",
    "readers.timezone_default": "Celui de la lettre ({zone})",
    "readers.preferences_save": "Enregistrer",
    "readers.preferences_unsubscribe": "Ne plus rien recevoir",
    "readers.preferences_not_active": (
        "Cette adresse ne reçoit pas {title} en ce moment\u00a0: vos préférences valent si "
        "vous vous abonnez à nouveau."
    ),
    "readers.subscribe_again": "S’abonner à nouveau",
    "readers.bad_frequency": (
        "Choisissez «\u202fchaque jour\u202f» ou «\u202fune fois par semaine\u202f»."
    ),
    "readers.bad_weekday": "Choisissez un jour de la semaine.",
    "readers.bad_date": "La date de fin de pause doit s’écrire AAAA-MM-JJ.",
    "readers.date_past": "La date de fin de pause doit être après aujourd’hui.",
    "readers.date_far": "Une pause dure au plus un an.",
    "readers.bad_format": "Choisissez le format HTML ou texte.",
    "readers.bad_topic": "Ce thème n’existe pas\u00a0: choisissez parmi ceux de la liste.",
    "readers.bad_timezone": "Ce fuseau horaire est inconnu\u00a0: choisissez-en un dans la liste.",
    "readers.bad_repeated": "Le formulaire contient deux fois le même champ.",
    "readers.json_object": "Attendu\u00a0: un objet JSON.",
    "readers.json_email": 'Attendu\u00a0: {{"email": "..."}}.',
    "readers.json_topics": "«\u202ftopics\u202f» doit être une liste de thèmes.",
    # The editors' pages (templates: ``t``); ``date_format`` and ``datetime_format`` are
    # strftime patterns, ``decimal_mark`` separates a number's decimals.
    "editors.newsroom": "Rédaction",
    "editors.brand": "{title} · rédaction",
    "editors.nav_editions": "Éditions",
    "editors.nav_subscribers": "Abonnés",
    "editors.nav_suppressions": "Liste de suppression",
    "editors.sign_out": "Se déconnecter",
    "editors.date_format": "%d/%m/%Y",
    "editors.datetime_format": "%d/%m/%Y %H:%M",
    "editors.decimal_mark": ",",
    "editors.separator": "\u202f; ",
    "editors.address": "Adresse",
    "editors.error_title": "Erreur",
    "editors.error": "Une erreur est survenue.",
    "editors.not_found": "Cette page n’existe pas.",
    "editors.method_not_allowed": "Méthode non permise.",
    "editors.too_large": "Requête trop grande.",
    "editors.nothing_changed": "Rien n’a été modifié.",
    "editors.go_back": "Revenir à la page précédente",
    "editors.or": "ou",
    "editors.back_to_editions": "aux éditions",
    "editors.csrf_refused": (
        "Ce formulaire a expiré ou ne vient pas de cette page\u00a0: rechargez la page et "
        "recommencez (les cookies doivent être permis)."
    ),
    "editors.signed_out": "Session absente ou expirée\u00a0: connectez-vous de nouveau.",
    "editors.bad_form": "Ce formulaire n’a pas pu être lu.",
    "editors.field_not_text": "Le champ «\u202f{name}\u202f» doit être du texte.",
    "editors.field_too_long": (
        "Le champ «\u202f{name}\u202f» est trop long ({limit} caractères au plus)."
    ),
    "editors.bad_date": "Cette date n’est pas une date valide (AAAA-MM-JJ).",
    "editors.login_title": "Connexion",
    "editors.login_heading": "Connexion de la rédaction",
    "editors.login_expired": "Votre session a expiré\u00a0: connectez-vous de nouveau.",
    "editors.login_no_account": (
        "Aucun compte n’est configuré. Créez une empreinte avec {command} et ajoutez-la à "
        "{variable} (ou à la table {table} du fichier de configuration)."
    ),
    "editors.login_email": "Adresse e-mail",
    "editors.login_password": "Mot de passe",
    "editors.login_button": "Se connecter",
    "editors.login_too_many": "Trop de tentatives\u00a0: réessayez dans {minutes}\u00a0min.",
    "editors.login_wrong": "Adresse ou mot de passe incorrect.",
    "editors.editions_title": "Éditions",
    "editors.compose_label": "Composer le brouillon du",
    "editors.compose_button": "Composer",
    "editors.compose_note": (
        "Recomposer garde vos décisions\u202f; une édition partie ne change plus."
    ),
    "editors.column_date": "Date",
    "editors.column_status": "État",
    "editors.column_subject": "Objet",
    "editors.column_articles": "Articles",
    "editors.column_reading": "Lecture",
    "editors.column_approval": "Validation",
    "editors.held_badge": "retenue",
    "editors.approved_by_short": "approuvée par {editor}",
    "editors.editions_empty": "Aucune édition pour l’instant\u00a0: composez celle d’aujourd’hui.",
    "editors.status_draft": "brouillon",
    "editors.status_sending": "en cours d’envoi",
    "editors.status_paused": "envoi en pause",
    "editors.status_sent": "envoyée",
    "editors.edition_title": "Édition du {date}",
    "editors.subject_label": "Objet\u00a0:",
    "editors.preheader_label": "Pré-en-tête\u00a0:",
    "editors.reading_time": "Temps de lecture",
    "editors.reading_of_budget": "{reading} sur un budget de {budget}",
    "editors.over_budget": "au-delà du budget",
    "editors.html_size": "Taille du HTML",
    "editors.kilobytes": "{size} Ko",
    "editors.size_of": "sur {limit}",
    "editors.clip_near": "proche de la limite",
    "editors.clip_near_rest": "où Gmail coupe le message",
    "editors.clip_over": "Gmail coupera ce message",
    "editors.clip_over_rest": "(«\u202fMessage tronqué\u202f»)",
    "editors.clip_ok": "(Gmail coupe au-delà)",
    "editors.approval": "Validation",
    "editors.approved_by": "Approuvée par {editor} le {when}",
    "editors.not_approved": "Pas encore approuvée",
    "editors.send_held": "envoi retenu",
    "editors.approve_button": "Approuver l’envoi",
    "editors.release_button": "Libérer l’envoi",
    "editors.hold_button": "Retenir l’envoi",
    "editors.read_only": "Cette édition est partie\u00a0: elle ne change plus (lecture seule).",
    "editors.preview": "Aperçu",
    "editors.desktop": "Ordinateur (640 px)",
    "editors.desktop_preview": "Aperçu sur ordinateur",
    "editors.phone": "Téléphone (375 px)",
    "editors.phone_preview": "Aperçu sur téléphone",
    "editors.articles_count": "Articles ({count})",
    "editors.column_article": "Article",
    "editors.column_section": "Rubrique",
    "editors.column_why": "Pourquoi (score)",
    "editors.column_decisions": "Décisions",
    "editors.pinned_badge": "épinglé",
    "editors.kind_live": "direct",
    "editors.kind_opinion": "opinion",
    "editors.kind_podcast": "podcast",
    "editors.kind_gallery": "images",
    "editors.kind_listicle": "liste",
    "editors.kind_series": "série",
    "editors.also": "aussi\u00a0:",
    "editors.seconds": "{seconds} s",
    "editors.move_up": "Monter",
    "editors.move_down": "Descendre",
    "editors.pin": "Épingler",
    "editors.unpin": "Désépingler",
    "editors.exclude": "Exclure",
    "editors.include": "Réintégrer",
    "editors.score_note": (
        "Le score additionne les signaux puis les multiplie par le poids de la rubrique. "
        "Un article épinglé entre quel que soit son score\u202f; le premier épinglé fait "
        "la une."
    ),
    "editors.no_articles": "Aucun article dans la fenêtre de cette édition.",
    "editors.excluded": "Exclus",
    "editors.left_out": "Autres articles de la fenêtre ({count}), hors de l’édition",
    "editors.variants": "Éditions personnalisées",
    "editors.variant_line": "{topics}\u00a0: {count} articles, {reading}",
    "editors.texts_heading": "Objet et pré-en-tête",
    "editors.subject_field": "Objet (vide\u00a0: celui de la une)",
    "editors.preheader_field": "Pré-en-tête (vide\u00a0: les titres suivants)",
    "editors.save": "Enregistrer",
    "editors.test_heading": "Envoyer un test",
    "editors.test_button": "Envoyer le test",
    "editors.test_note": (
        "L’objet commence par «\u202f{prefix}\u202f»\u202f; aucun abonné n’est compté comme servi."
    ),
    "editors.text_version": "Version texte",
    "editors.score_featured": "mis en avant par la source",
    "editors.score_coverage": "couverture (autres sources)",
    "editors.score_prominence": "place dans le flux",
    "editors.score_recency": "fraîcheur",
    "editors.score_category_weight": "poids de la rubrique (×)",
    "editors.no_edition": "Pas d’édition pour le {date}.",
    "editors.date_range": "Choisissez une date entre {first} et {last}.",
    "editors.locked": "Cette édition est déjà partie\u00a0: elle ne change plus.",
    "editors.locked_pause": "Cette édition est déjà partie\u00a0: mettez son envoi en pause.",
    "editors.empty_approval": "Cette édition est vide\u00a0: il n’y a rien à approuver.",
    "editors.composed": "Brouillon composé\u00a0: {count} articles.",
    "editors.done_pin": "Article épinglé.",
    "editors.done_unpin": "Article désépinglé.",
    "editors.done_exclude": "Article exclu de l’édition.",
    "editors.done_include": "Exclusion annulée.",
    "editors.done_up": "Article remonté.",
    "editors.done_down": "Article descendu.",
    "editors.unknown_action": "Action inconnue.",
    "editors.texts_saved": "Objet et pré-en-tête enregistrés.",
    "editors.test_address_missing": "Indiquez l’adresse qui doit recevoir le test.",
    "editors.test_address_invalid": "«\u202f{address}\u202f» n’est pas une adresse e-mail valide.",
    "editors.subject_too_long": "L’objet doit avoir au plus {limit} caractères.",
    "editors.preheader_too_long": "Le pré-en-tête doit avoir au plus {limit} caractères.",
    "editors.subject_one_line": "L’objet doit tenir sur une ligne.",
    "editors.preheader_one_line": "Le pré-en-tête doit tenir sur une ligne.",
    "editors.test_sent": "Test envoyé à {address} ({answer}).",
    "editors.approved": "Édition approuvée.",
    "editors.already_approved": "Cette édition était déjà approuvée.",
    "editors.bad_held": "Valeur attendue\u00a0: held=1 ou held=0.",
    "editors.held": "Envoi retenu.",
    "editors.released": "Envoi libéré.",
    "editors.subscribers_title": "Abonnés",
    "editors.subscribers_heading": "Abonnés ({total})",
    "editors.search_heading": "Rechercher une adresse",
    "editors.search_placeholder": "partie de l’adresse",
    "editors.search_button": "Rechercher",
    "editors.column_name": "Nom",
    "editors.column_topics": "Rubriques",
    "editors.column_created": "Inscrit le",
    "editors.search_first": (
        "Les {shown} premières adresses seulement\u00a0: précisez la recherche."
    ),
    "editors.search_none": "Aucune adresse ne contient «\u202f{query}\u202f».",
    "editors.import_heading": "Importer un fichier CSV",
    "editors.import_report": (
        "{added} ajoutés, {updated} mis à jour, {unchanged} inchangés, {rejected} refusés"
    ),
    "editors.import_duplicates": ", {count} lignes répétées fusionnées",
    "editors.import_kept_inactive": ", {count} laissés désabonnés ou en échec",
    "editors.import_button": "Importer",
    "editors.import_help": (
        "Première ligne\u00a0: {email} puis, au choix, {name}, {topics}, {timezone} "
        "(virgules, points-virgules ou tabulations\u202f; UTF-8, UTF-16 ou "
        "Windows-1252\u202f; {max_mb} Mo au plus). Les lignes invalides sont signalées "
        "avec leur numéro, les autres importées. Un abonné déjà inscrit garde ses "
        "rubriques, son fuseau, sa fréquence, son format et son état (c’est le lecteur qui "
        "les choisit)\u202f: seul un nom manquant est complété. Une adresse désabonnée "
        "n’est jamais réactivée."
    ),
    "editors.export_heading": "Exporter",
    "editors.export_link": "Télécharger tous les abonnés (CSV)",
    "editors.audience_pending": "en attente de confirmation",
    "editors.audience_active": "actifs",
    "editors.audience_unsubscribed": "désabonnés",
    "editors.audience_bounced": "adresses en échec",
    "editors.audience_complained": "plaintes (spam)",
    "editors.subscriber_pending": "en attente",
    "editors.subscriber_active": "actif",
    "editors.subscriber_unsubscribed": "désabonné",
    "editors.subscriber_bounced": "en échec",
    "editors.subscriber_complained": "plainte (spam)",
    "editors.search_too_long": "La recherche est trop longue ({limit} caractères au plus).",
    "editors.search_control": "La recherche contient un caractère de contrôle.",
    "editors.import_no_file": "Choisissez un fichier CSV à importer.",
    "editors.import_too_large": "Fichier trop grand ({mb} Mo au plus).",
    "editors.import_refused": "Fichier refusé\u00a0: {reason}",
    "editors.nav_sources": "Sources",
    "editors.sources_title": "Sources",
    "editors.sources_note": (
        "Les flux que newsletter run relève, et leur état. On en ajoute ou retire un avec "
        "« newsletter sources add URL » et « newsletter sources remove ID », ou dans "
        "[[sources]] du fichier de configuration."
    ),
    "editors.sources_name": "Source",
    "editors.sources_section": "Rubrique",
    "editors.sources_last_poll": "Dernier relevé",
    "editors.sources_status": "État",
    "editors.sources_failures": "Erreurs de suite",
    "editors.sources_next_poll": "Prochain relevé",
    "editors.sources_every": "toutes les {minutes} min",
    "editors.sources_never": "jamais",
    "editors.sources_status_200": "lu (200)",
    "editors.sources_status_not_modified": "inchangé (304)",
    "editors.sources_status_new": "pas encore relevé",
    "editors.sources_empty": "Aucune source : ajoutez-en une avec « newsletter sources add URL ».",
    "editors.suppressions_title": "Liste de suppression",
    "editors.suppressions_note": (
        "Ces adresses ne reçoivent plus rien, quel que soit leur état d’abonné (échec "
        "définitif, plainte, décision manuelle)."
    ),
    "editors.column_reason": "Raison",
    "editors.column_detail": "Détail",
    "editors.column_since": "Depuis",
    "editors.suppressions_first": "Les {shown} plus récentes seulement.",
    "editors.suppressions_empty": "La liste est vide.",
    # The confirmation email ({title}, {valid}, {url}; the HTML's values are escaped).
    "signup.subject": "Confirmez votre abonnement à {title}",
    "signup.day": "jour",
    "signup.days": "jours",
    "signup.text": (
        "Bonjour,\n\nPour recevoir {title}, confirmez votre adresse en ouvrant ce lien "
        "(valable {valid}) :\n\n{url}\n\nSi vous n’avez rien demandé, ignorez ce message : "
        "vous ne recevrez rien.\n"
    ),
    "signup.html": (
        "<p>Bonjour,</p><p>Pour recevoir {title}, confirmez votre adresse (lien valable "
        '{valid})&nbsp;:</p><p><a href="{url}">Confirmer mon abonnement</a></p><p>Si '
        "vous n’avez rien demandé, ignorez ce message&nbsp;: vous ne recevrez rien.</p>"
    ),
    # What a use case refuses or warns about (see ``Phrase``): lower case first, the page
    # adds the capital.
    "problems.no_edition": "pas d’édition pour le {day}",
    "problems.not_candidate": (
        "article #{article} n’est pas candidat à l’édition du {day} (publié hors de sa "
        "fenêtre ou déjà dans une autre édition)"
    ),
    "problems.not_pinned": "article #{article} n’est pas épinglé",
    "problems.not_in_edition": "article #{article} n’est pas dans l’édition",
    "problems.not_excluded": "article #{article} n’est pas exclu",
    "problems.cannot_move": "cet article ne peut pas aller plus loin",
    "problems.subject_too_long": "l’objet doit avoir au plus {limit} caractères",
    "problems.preheader_too_long": "le pré-en-tête doit avoir au plus {limit} caractères",
    "problems.subject_one_line": "l’objet doit tenir sur une ligne",
    "problems.preheader_one_line": "le pré-en-tête doit tenir sur une ligne",
    "problems.html_clipped": (
        "le HTML fait {size} octets\u202f; Gmail coupe les messages au-delà d’environ "
        "{limit} octets"
    ),
    "problems.test_not_accepted": "le test n’a pas été accepté",
    "problems.invalid_address": "adresse invalide",
    # The scheduler's mail to the editors (plain text: no typographic spaces): the draft is
    # ready, an alert.
    "scheduler.draft_subject": "{title} : brouillon du {day} à relire",
    "scheduler.draft_ready": "Le brouillon de l’édition du {day} est prêt",
    "scheduler.draft_items": " ({count} articles) : « {subject} ».",
    "scheduler.send_at": "Envoi prévu à {time} ({zone}). {approval}",
    "scheduler.approval_required": "Elle ne partira qu’approuvée par l’un d’entre vous.",
    "scheduler.approval_optional": "Elle partira à l’heure sauf si l’un d’entre vous la retient.",
    "scheduler.review": "Relire, retenir ou approuver : {link}",
    "scheduler.alert_subject": "{title} : alerte ({kind}) {day}",
    # The scheduler's alerts (the mail's body and the log's message; English today).
    "scheduler.alert.source_failing": (
        "la source {url} (id {id}) échoue depuis {since} ({failures} relevés de suite) : {error}"
    ),
    "scheduler.alert.wave_failed": "une vague de fuseaux horaires a échoué : {error}",
    "scheduler.alert.compose_failed": "la composition du brouillon a échoué : {error}",
    "scheduler.alert.weekly_compose_failed": (
        "la composition de l’édition hebdomadaire a échoué : {error}"
    ),
    "scheduler.alert.weekly_send_failed": "l’envoi de l’édition hebdomadaire a échoué : {error}",
    "scheduler.alert.weekly_stopped": "l’envoi hebdomadaire s’est arrêté : {reason}",
    "scheduler.alert.skipped": (
        "l’édition du {day} n’est pas partie : {why} ; l’heure d’envoi ({time}) est passée de "
        "plus de {grace} minutes, la journée est donc sautée"
    ),
    "scheduler.alert.why_held": "retenue par un éditeur",
    "scheduler.alert.why_not_approved": "pas approuvée",
    "scheduler.alert.why_downtime": "rien n’a tourné pendant le délai de grâce (panne ?)",
    "scheduler.alert.held": "l’édition du {day} est toujours retenue",
    "scheduler.alert.approval": (
        "personne n’a approuvé l’édition du {day} ; elle attend (jusqu’à {grace} minutes après "
        "l’heure d’envoi)"
    ),
    "scheduler.alert.late": "l’édition du {day} part {minutes} minutes après son heure d’envoi",
    "scheduler.alert.not_sent": "l’édition du {day} n’est pas partie : {error}",
    "scheduler.alert.send_failed": "l’envoi de l’édition du {day} a échoué : {error}",
    "scheduler.alert.stopped": "l’envoi du {day} s’est arrêté : {reason}",
    "scheduler.alert.deliveries_failed": "{count} envois du {day} ont échoué",
    # Editors: concurrent changes, versions, approval bound to a version, the audit log.
    "editors.stale": (
        "Le brouillon a changé depuis l’affichage de cette page (version {seen}, maintenant "
        "{current})\u00a0: rechargez-le, puis refaites votre choix."
    ),
    "editors.reload": "Recharger le brouillon",
    "editors.bad_version": "Version du brouillon illisible.",
    "editors.version": "version {version}",
    "editors.approved_version": "Approuvée par {editor} le {when}, version {version}",
    "editors.approval_cleared": (
        "Approbation levée\u00a0: modifiée par {changer} le {when} depuis l’approbation par "
        "{editor} de la version {version}"
    ),
    "editors.history": "Historique de cette édition",
    "editors.audit_all": "Tout le journal",
    "editors.nav_audit": "Journal",
    "editors.audit_title": "Journal des actions",
    "editors.audit_intro": "Qui a fait quoi, quand et d’où, les plus récentes d’abord.",
    "editors.audit_empty": "Aucune action enregistrée.",
    "editors.column_when": "Quand",
    "editors.column_who": "Qui",
    "editors.column_what": "Quoi",
    "editors.column_where": "D’où",
    "editors.column_edition": "Édition",
    "editors.audit_page": "Page {page} sur {pages}",
    "editors.newer": "Plus récentes",
    "editors.older": "Plus anciennes",
    "editors.bad_page": "Ce numéro de page n’existe pas.",
    "editors.action_pin": "a épinglé",
    "editors.action_unpin": "a désépinglé",
    "editors.action_exclude": "a exclu",
    "editors.action_include": "a réintégré",
    "editors.action_up": "a monté",
    "editors.action_down": "a descendu",
    "editors.action_move": "a placé",
    "editors.action_texts": "a changé l’objet ou le préheader",
    "editors.action_decide": "a décidé",
    "editors.action_approve": "a approuvé",
    "editors.action_hold": "a retenu l’envoi",
    "editors.action_unhold": "a levé la retenue",
    "editors.action_compose": "a recomposé",
    "editors.action_test_send": "a envoyé un test",
    "editors.action_sign_in": "s’est connecté",
    "editors.action_locked_out": "connexion bloquée",
    # The audience: erasure and background imports.
    "editors.erase_heading": "Effacement",
    "editors.erase_confirm": "effacer toutes ses données",
    "editors.erase_button": "Effacer",
    "editors.erase_done": (
        "{email} est effacé\u00a0: plus aucune donnée\u202f; {deliveries} envois gardés sans "
        "adresse"
    ),
    "editors.erase_still_suppressed": "\u202f; l’adresse reste refusée (gardée en empreinte)",
    "editors.erase_no_address": "Indiquez l’adresse à effacer.",
    "editors.erase_unconfirmed": "Cochez la case pour confirmer l’effacement.",
    "editors.erase_unknown": "Aucune donnée ne porte l’adresse {email}.",
    "editors.import_running": "Un import est déjà en cours ; attendez qu’il se termine.",
    "editors.import_unknown": "Cet import n’existe pas.",
    "editors.import_job_title": "Import",
    "editors.import_job_heading": "Import de {label}",
    "editors.import_status_running": "En cours (la page se recharge toute seule).",
    "editors.import_status_done": "Terminé.",
    "editors.import_status_failed": "Refusé.",
    "editors.import_status_interrupted": "Interrompu (le serveur s’est arrêté).",
    "editors.import_progress": "{processed} lignes sur {total} ({percent} %)",
    "editors.import_interrupted_help": (
        "Les lignes déjà importées le restent : importez à nouveau le même fichier pour terminer."
    ),
    "editors.import_back": "Retour aux abonnés",
    "editors.send_title": "Envoi et chiffres du {date}",
    "editors.send_back": "Retour à l’édition",
    "editors.send_live": "Où en est l’envoi",
    "editors.send_pause": "Mettre l’envoi en pause",
    "editors.send_resume": "Reprendre l’envoi",
    "editors.send_note": (
        "En pause, les envois en cours s’achèvent et rien de plus ne part "
        "; à la reprise, rien n’est envoyé deux fois."
    ),
    "editors.send_sent": "Envoyés",
    "editors.send_pending": "En attente",
    "editors.send_deferred": "Reportés",
    "editors.send_failed": "Échoués",
    "editors.send_in_doubt": "Incertains",
    "editors.send_rate": "Messages/s",
    "editors.send_time_left": "Temps restant",
    "editors.send_state_is": "État\xa0: {status}",
    "editors.send_state": "État",
    "editors.send_refresh": "mis à jour toutes les {seconds} s",
    "editors.send_failures": "Échecs et reports",
    "editors.send_no_failures": "Aucun échec.",
    "editors.send_address": "Adresse",
    "editors.send_code": "Code",
    "editors.send_reason": "Raison",
    "editors.send_attempts": "Tentatives",
    "editors.send_paused": "Envoi mis en pause.",
    "editors.send_resumed": "Envoi repris : le planificateur ou un worker le poursuit.",
    "editors.send_not_sending": "Cette édition n’était pas en cours d’envoi.",
    "editors.send_not_paused": "Cette édition n’était pas en pause.",
    "editors.send_link": "Envoi et chiffres",
    "editors.report_title": "Bilan",
    "editors.report_recipients": "Destinataires",
    "editors.report_sent": "Envoyés",
    "editors.report_failed": "Échoués",
    "editors.report_in_doubt": "Incertains",
    "editors.report_bounced": "Rebonds",
    "editors.report_complained": "Plaintes",
    "editors.report_unsubscribed": "Désabonnements",
    "editors.report_clicks": "Clics",
    "editors.report_by_item": "Clics par article",
    "editors.report_item": "Article",
    "editors.numbers_link": "Les 30 derniers jours",
    "readers.embed_heading": "La newsletter qui vous briefe en 5 min",
    "readers.embed_tagline": (
        "Chaque jour, recevez l’essentiel de l’information pour ne rien rater de l’actualité"
    ),
    "readers.embed_button": "Je m’inscris",
    "readers.embed_note": "Un e-mail de confirmation vous sera envoyé. Désinscription en un clic.",
    "editors.embed_title": "La boîte d’inscription",
    "editors.embed_note": (
        "Copiez ce code dans une page du site : il affiche le formulaire "
        "d’inscription (double confirmation par e-mail). Seules les origines de "
        "NEWSLETTER_ALLOWED_ORIGINS peuvent l’afficher."
    ),
    "editors.embed_origins": "Origines autorisées",
    "editors.embed_none": "aucune (seul ce site)",
    "editors.nav_embed": "Inscription",
    "editors.numbers_title": "Les 30 derniers jours",
    "editors.numbers_note": "Du {first} au {last}, par jour (UTC) ; les clics par date d’édition.",
    "editors.numbers_total": "{total} en tout",
    "editors.numbers_sends": "Envois",
    "editors.numbers_bounces": "Rebonds",
    "editors.numbers_complaints": "Plaintes",
    "editors.numbers_unsubscribes": "Désabonnements",
    "editors.numbers_signups": "Inscriptions",
    "editors.numbers_clicks": "Clics",
    "editors.nav_numbers": "Chiffres",
}
