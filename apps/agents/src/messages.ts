import { registerMessages } from '@multipult/graphql';

/** The agents service's error messages, in every language the platform answers in. */
export function registerAgentsMessages(): void {
  registerMessages({
    en: {
      'errors.agent_exists': 'You already have an agent with this name',
      'errors.unknown_model': 'No model {model} is configured; see agentModels',
      'errors.model_not_chat': '{model} is an embeddings model, not a chat model',
      'errors.unknown_tools': 'No such tools: {tools}; see agentTools',
      'errors.unknown_agents': 'These agents do not exist or are not yours to use: {agents}',
      'errors.no_agents': 'You have no agents to plan with; create one first',
      'errors.plan_cycle': 'The plan has a cycle: {cycle}',
      'errors.plan_duplicate_key': 'Two tasks of the plan are named {key}',
      'errors.plan_unknown_dependency': 'Task {key} depends on {dependency}, which is not in the plan',
      'errors.plan_not_editable': 'The plan can be changed only while it waits for approval (the run is {status})',
      'errors.plan_not_awaiting_approval': 'The plan does not wait for approval (the run is {status})',
      'errors.plan_not_ready': 'The planner has not written the plan yet',
      'errors.run_finished': 'The run has already finished ({status})',
      'errors.tool_call_decided': 'The call has already been decided ({status})',
      'errors.chat_needs_agent': 'Name the agent that answers: the session has no agent of its own',
      'errors.memory_unavailable': 'Agent memory is off: this deployment has no embeddings model',
      'errors.prune_rule_needed': 'Say which memories to delete: olderThanDays, keepLatest or both',
    },
    ru: {
      'errors.agent_exists': 'У вас уже есть агент с таким именем',
      'errors.unknown_model': 'Модель {model} не настроена; см. agentModels',
      'errors.model_not_chat': '{model} — модель эмбеддингов, а не чата',
      'errors.unknown_tools': 'Нет таких инструментов: {tools}; см. agentTools',
      'errors.unknown_agents': 'Этих агентов нет или они вам недоступны: {agents}',
      'errors.no_agents': 'У вас нет агентов для плана; сначала создайте агента',
      'errors.plan_cycle': 'В плане есть цикл: {cycle}',
      'errors.plan_duplicate_key': 'Две задачи плана названы {key}',
      'errors.plan_unknown_dependency': 'Задача {key} зависит от {dependency}, которой нет в плане',
      'errors.plan_not_editable': 'План можно менять, только пока он ждёт одобрения (запуск: {status})',
      'errors.plan_not_awaiting_approval': 'План не ждёт одобрения (запуск: {status})',
      'errors.plan_not_ready': 'Планировщик ещё не составил план',
      'errors.run_finished': 'Запуск уже завершён ({status})',
      'errors.tool_call_decided': 'Решение по вызову уже принято ({status})',
      'errors.chat_needs_agent': 'Укажите агента, который ответит: у сессии нет своего агента',
      'errors.memory_unavailable': 'Память агентов выключена: в этой установке нет модели эмбеддингов',
      'errors.prune_rule_needed': 'Укажите, какие воспоминания удалить: olderThanDays, keepLatest или оба',
    },
  });
}
